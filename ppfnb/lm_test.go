package ppfnb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// A perplexity of text that is mostly <unk> comes with a warning; text the
// tokenizer covers does not. tok105 has no byte fallback: the 18 newlines
// of the TinyStories excerpt are its only <unk> among 30,330 tokens.
func TestEvaluateWarnsOnUnknownText(t *testing.T) {
	lm, err := Load("babyllama-tok105", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opt := native.EvalOptions{MaxTokens: 512}
	ev, err := lm.Evaluate(ctx, DefaultText, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18.0 / 30330; ev.Unknown != want || ev.Warning != "" {
		t.Errorf("TinyStories: unknown %v, warning %q; want %v and none", ev.Unknown, ev.Warning, want)
	}
	jp := filepath.Join(t.TempDir(), "jp.txt")
	if err := os.WriteFile(jp, []byte(strings.Repeat("日本語のテキストです。\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	ev, err = lm.Evaluate(ctx, jp, opt)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Unknown < 0.9 || !strings.Contains(ev.Warning, "are <unk>") {
		t.Errorf("Japanese text: unknown %v, warning %q; want most tokens unknown and a warning", ev.Unknown, ev.Warning)
	}

	lm, err = Load("stories260K", "")
	if err != nil {
		t.Fatal(err)
	}
	if ev, err = lm.Evaluate(ctx, jp, opt); err != nil || ev.Unknown != 0 {
		t.Errorf("a llama2.c tokenizer has no <unk> (bytes instead): unknown %v, err %v", ev.Unknown, err)
	}
}
