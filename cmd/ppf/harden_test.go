package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// ppf collect --out on a file that is not a dataset refuses it and
// leaves it byte for byte as it was: a model checkpoint (whose last line
// has no newline, so an unchecked resume cut it as a torn write), and a
// one-line text file.
func TestCollectRefusesNonDataset(t *testing.T) {
	dir := t.TempDir()
	bin, err := os.ReadFile(filepath.Join(native.ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"stories260K.bin": bin,
		"notes.txt":       []byte("remember the milk"),
		"lines.txt":       []byte("one\ntwo\n"),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := ppf(t, args("collect", "--samples", "5", "--out", path)...)
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, content) {
			t.Errorf("%s: collect changed the file: %d bytes before, %d after", name, len(content), len(got))
		}
		if code == 0 || out != "" || !strings.Contains(errOut, "is not a dataset") || !strings.Contains(errOut, "left untouched") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error saying it is not a dataset", name, code, out, errOut)
		}
	}
}

// train-predictor and merge refuse a dataset holding each record twice,
// as two collectors writing to one file made it; the error says which
// line duplicates which. --data naming one file twice is refused too.
func TestDuplicatedRecords(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.jsonl")
	if _, errOut, code := ppf(t, args("collect", "--samples", "6", "--out", data)...); code != 0 {
		t.Fatalf("collect: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	// Two collectors interleave: each sample lands twice, the second
	// copy with its own timing.
	lines := strings.SplitAfter(string(b), "\n")
	var sb strings.Builder
	for _, l := range lines[:len(lines)-1] {
		sb.WriteString(l)
		sb.WriteString(strings.Replace(l, `"seconds":`, `"seconds":1`, 1))
	}
	twice := filepath.Join(dir, "twice.jsonl")
	os.WriteFile(twice, []byte(sb.String()), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train-predictor", "--data", twice, "--out", filepath.Join(dir, "p.json"), "--test", "0"}, "twice.jsonl line 2 duplicates line 1"},
		{[]string{"train-predictor", "--data", data + "," + data, "--out", filepath.Join(dir, "p.json"), "--test", "0"}, "names " + data + " twice"},
		{[]string{"collect", "--merge", "--out", filepath.Join(dir, "m.jsonl"), twice}, "twice.jsonl line 2"},
	} {
		out, errOut, code := ppf(t, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("ppf %v: exit %d, stdout %q, stderr %q; want an error mentioning %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
		t.Error("train-predictor wrote a predictor from duplicated records")
	}
}

// ppf predict and ppf serve refuse a predictor or agent file with a huge
// hidden width with an error naming the field, instead of a makeslice
// panic.
func TestPredictHugeArch(t *testing.T) {
	dir := t.TempDir()
	s, err := predictor.NewLlamaSpace("stories260K", predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	syn, _ := predictor.NewSynthetic(s, 1)
	d, _ := syn.Dataset(30, 0.1, 0.5, 1, 1)
	cfg := predictor.DefaultTrainConfig()
	cfg.MaxEpochs = 2
	p, err := predictor.Train(context.Background(), s, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p.Encode(&buf)
	var f map[string]any
	json.Unmarshal(buf.Bytes(), &f)
	f["arch"].(map[string]any)["hidden"] = json.RawMessage("[4611686018427387904]")
	b, _ := json.Marshal(f)
	path := filepath.Join(dir, "huge.json")
	os.WriteFile(path, b, 0o644)
	good := filepath.Join(dir, "p.json")
	if err := p.Save(good); err != nil {
		t.Fatal(err)
	}
	acfg := agent.DefaultConfig()
	acfg.Steps, acfg.RatioMin, acfg.RatioMax = 2, 0.1, 0.5
	a, err := agent.Train(context.Background(), s, p, acfg)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	a.Encode(&buf)
	f = nil
	json.Unmarshal(buf.Bytes(), &f)
	f["config"].(map[string]any)["hidden"] = json.RawMessage("4611686018427387904")
	b, _ = json.Marshal(f)
	hugeAgent := filepath.Join(dir, "huge-agent.json")
	os.WriteFile(hugeAgent, b, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "--predictor", path, "--policy", `{"layers":[]}`}, "arch.hidden[0] is 4611686018427387904"},
		{[]string{"serve", "--predictor", path, "--addr", "127.0.0.1:0"}, "arch.hidden[0] is 4611686018427387904"},
		{[]string{"predict", "--predictor", good, "--agent", hugeAgent, "--ratio", "0.3"}, "config.hidden is 4611686018427387904"},
		{[]string{"serve", "--predictor", good, "--agent", hugeAgent, "--addr", "127.0.0.1:0"}, "config.hidden is 4611686018427387904"},
	} {
		c := tc.args
		var out, errOut string
		code := -1
		func() {
			defer func() {
				if r := recover(); r != nil {
					errOut = fmt.Sprint("panic: ", r)
				}
			}()
			out, errOut, code = ppf(t, c...)
		}()
		if code <= 0 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("ppf %v: exit %d, stdout %q, stderr %q; want an error mentioning %q", c, code, out, errOut, tc.want)
		}
	}
}

// ppf eval on text the tokenizer has no pieces for warns on stderr and
// keeps stdout and --json as they are.
func TestEvalWarnsOnUnknownText(t *testing.T) {
	jp := filepath.Join(t.TempDir(), "jp.txt")
	if err := os.WriteFile(jp, []byte(strings.Repeat("日本語のテキストです。\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := ppf(t, "eval", "--model", "babyllama-tok105", "--data", jp, "--json")
	if code != 0 || !strings.Contains(errOut, "ppf eval: warning: ") || !strings.Contains(errOut, "are <unk>") || !strings.Contains(out, `"warning":`) {
		t.Errorf("exit %d; stdout %q; stderr %q; want exit 0, the warning on stderr and in the JSON", code, out, errOut)
	}
	if _, errOut, _ = ppf(t, "eval", "--model", "babyllama-tok105", "--max-tokens", "512"); strings.Contains(errOut, "warning") {
		t.Errorf("TinyStories gave a warning: %q", errOut)
	}
}
