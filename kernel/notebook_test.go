package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/ppfnb"
)

// notebook is the part of an .ipynb file the tests read.
type notebook struct {
	Cells []struct {
		CellType string `json:"cell_type"`
		Outputs  []struct {
			OutputType string                     `json:"output_type"`
			Name       string                     `json:"name"`
			Text       multiline                  `json:"text"`
			Data       map[string]json.RawMessage `json:"data"`
			Ename      string                     `json:"ename"`
			Evalue     string                     `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

// multiline is nbformat's text: a string or a list of lines.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err == nil {
		*m = multiline(strings.Join(lines, ""))
		return nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	*m = multiline(s)
	return err
}

func data(t *testing.T, raw map[string]json.RawMessage, mime string) string {
	t.Helper()
	var m multiline
	if b, ok := raw[mime]; ok {
		if err := m.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
	}
	return string(m)
}

// executeNotebook runs a notebook of ../notebooks through
// `jupyter nbconvert --to notebook --execute` with the PPF kernel and
// returns the executed notebook.
func executeNotebook(t *testing.T, name string) notebook {
	t.Helper()
	requirePython(t, "nbconvert", "nbclient", "jupyter_client")
	env, dir := installKernel(t)
	src, err := filepath.Abs(filepath.Join("..", "notebooks", name))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-m", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name=ppf", "--ExecutePreprocessor.timeout=300",
		"--output-dir", dir, "--output", "executed.ipynb", src)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute %s: %v\n%s", name, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "executed.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				t.Fatalf("cell %d failed: %s: %s", i, o.Ename, o.Evalue)
			}
		}
	}
	return nb
}

// TestNotebookSmoke executes notebooks/smoke.ipynb and checks each output
// against the same calls made here, compiled.
func TestNotebookSmoke(t *testing.T) {
	nb := executeNotebook(t, "smoke.ipynb")
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
	if o := outs[2].Outputs; len(o) != 1 || o[0].OutputType != "execute_result" || data(t, o[0].Data, "text/plain") != text {
		t.Errorf("cell 2: want the generated text %q, got %+v", text, o)
	}
	o := outs[3].Outputs
	if len(o) != 2 || !strings.Contains(data(t, o[0].Data, "text/html"), fmt.Sprintf(`<progress value="%d" max="%d"`, ev.Windows, ev.Windows)) {
		t.Errorf("cell 3: want a finished progress bar, got %+v", o)
	} else if h := data(t, o[1].Data, "text/html"); !strings.Contains(h, "<td>"+ppl+"</td>") {
		t.Errorf("cell 3: table %q lacks perplexity %s", h, ppl)
	}
	want := fmt.Sprintf("perplexity **%s** over %d tokens", ppl, ev.Tokens)
	if o := outs[4].Outputs; len(o) != 1 || data(t, o[0].Data, "text/markdown") != want {
		t.Errorf("cell 4: want markdown %q, got %+v", want, o)
	}
}
