package kernel_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/kernel/kerneltest"
	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/ppfnb"
)

// TestNotebookSmoke executes notebooks/smoke.ipynb and checks each output
// against the same calls made here, compiled.
func TestNotebookSmoke(t *testing.T) {
	kerneltest.RequirePython(t, "nbconvert", "nbclient", "jupyter_client")
	env, dir := kerneltest.Install(t)
	nb := kerneltest.Execute(t, env, dir, filepath.Join("..", "notebooks", "smoke.ipynb"))
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		t.Skipf("the shared models are missing: %v", err)
	}
	ctx := context.Background()
	text, err := lm.Generate(ctx, ppfnb.GenerateOptions{Prompt: "Once upon a time", Steps: 40}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := lm.Evaluate(ctx, "tinystories/TinyStories-valid-excerpt.txt", native.EvalOptions{SeqLen: 256, MaxTokens: 2560})
	if err != nil {
		t.Fatal(err)
	}
	ppl := fmt.Sprintf("%.4f", ev.Perplexity)

	outs := nb.Cells
	if len(outs) != 5 {
		t.Fatalf("%d cells, want 5", len(outs))
	}
	if o := outs[1].Outputs; len(o) != 1 || o[0].Name != "stdout" || string(o[0].Text) != "loaded stories260K with 5 layers\n" {
		t.Errorf("cell 1 outputs %+v", o)
	}
	if o := outs[2].Outputs; len(o) != 1 || o[0].OutputType != "execute_result" || string(o[0].Data["text/plain"]) != text {
		t.Errorf("cell 2: want the generated text %q, got %+v", text, o)
	}
	o := outs[3].Outputs
	if len(o) != 2 || !strings.Contains(string(o[0].Data["text/html"]), fmt.Sprintf(`<progress value="%d" max="%d"`, ev.Windows, ev.Windows)) {
		t.Errorf("cell 3: want a finished progress bar, got %+v", o)
	} else if h := string(o[1].Data["text/html"]); !strings.Contains(h, "<td>"+ppl+"</td>") {
		t.Errorf("cell 3: table %q lacks perplexity %s", h, ppl)
	}
	want := fmt.Sprintf("perplexity **%s** over %d tokens", ppl, ev.Tokens)
	if o := outs[4].Outputs; len(o) != 1 || string(o[0].Data["text/markdown"]) != want {
		t.Errorf("cell 4: want markdown %q, got %+v", want, o)
	}
}
