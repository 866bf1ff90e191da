package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
)

func ppf(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestGenerateGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(native.ModelsDir(), "..", "reference", "stories260K-greedy-200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := ppf(t, "generate", "--model", "stories260K", "--temperature", "0", "--steps", "200")
	if code != 0 || out != string(want) {
		t.Errorf("exit %d, stderr %q\nstdout %q\nwant   %q", code, errOut, out, want)
	}
}

func TestEvalJSON(t *testing.T) {
	out, errOut, code := ppf(t, "eval", "--model", "stories260K", "--data", "tinystories/TinyStories-valid-excerpt.txt",
		"--seqlen", "128", "--max-tokens", "1000", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"perplexity", "nll", "tokens", "seqlen", "seconds", "windows", "model", "data", "text"} {
		if _, ok := res[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	// 1000 tokens make 7 windows of 128, each predicting 127 tokens.
	if res["tokens"] != float64(7*127) || res["seqlen"] != float64(128) {
		t.Errorf("tokens %v seqlen %v, want 889 and 128", res["tokens"], res["seqlen"])
	}
	if p, _ := res["perplexity"].(float64); p < 2 || p > 8 {
		t.Errorf("perplexity %v is implausible for stories260K on TinyStories", p)
	}
}

func TestTokenize(t *testing.T) {
	tok := filepath.Join(native.ModelsDir(), "llama2-tokenizer", "tokenizer.bin")
	out, errOut, code := ppf(t, "tokenize", "--tokenizer", tok, "I believe the meaning of life is")
	if code != 0 || strings.TrimSpace(out) != "[1,306,4658,278,6593,310,2834,338]" {
		t.Errorf("exit %d stderr %q stdout %q", code, errOut, out)
	}
	out, _, _ = ppf(t, "tokenize", "--tokenizer", tok, "--no-bos", "I believe")
	if strings.TrimSpace(out) != "[306,4658]" {
		t.Errorf("--no-bos: %q", out)
	}
}

// Each bad input gives one clear error and a non-zero exit, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.bin")
	b, err := os.ReadFile(filepath.Join(native.ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(corrupt, b[:len(b)/2], 0o644)
	tiny := filepath.Join(dir, "tiny.txt")
	os.WriteFile(tiny, []byte("Once upon a time."), 0o644)
	tok105 := filepath.Join(native.ModelsDir(), "babyllama-tok105", "tok105.model")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown model", []string{"eval", "--model", "no-such-model"}, "available: babyllama-tok105, stories260K"},
		{"truncated checkpoint", []string{"generate", "--model", corrupt, "--tokenizer", tok105}, "truncated"},
		{"tokenizer of another model", []string{"generate", "--model", "stories260K", "--tokenizer", tok105}, "use the tokenizer that belongs to the model"},
		{"seqlen beyond context", []string{"eval", "--model", "stories260K", "--seqlen", "1024"}, "context of 512"},
		{"text shorter than a window", []string{"eval", "--model", "stories260K", "--data", tiny, "--seqlen", "64"}, "fewer than one window"},
		{"missing data", []string{"eval", "--model", "stories260K", "--data", filepath.Join(dir, "none.txt")}, "no such file"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	} {
		out, errOut, code := ppf(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error mentioning %q", tc.name, code, out, errOut, tc.want)
		}
	}
}
