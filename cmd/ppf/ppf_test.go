package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Short slices keep the CLI tests to seconds: 512 search tokens are two
// windows of 256.
var small = []string{"--model", "stories260K", "--search-tokens", "512"}

func args(cmd string, extra ...string) []string {
	return append(append([]string{cmd}, small...), extra...)
}

func loadClean(t *testing.T, path string) []string {
	t.Helper()
	d, err := predictor.LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(d))
	for i, r := range d {
		r.Seconds = 0
		b, _ := json.Marshal(r)
		out[i] = string(b)
	}
	return out
}

// ppf collect in two shards, merged, equals one run; a rerun resumes.
func TestCollectShardsCLI(t *testing.T) {
	dir := t.TempDir()
	one, a, b, m := filepath.Join(dir, "one.jsonl"), filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "m.jsonl")
	for _, c := range [][]string{
		args("collect", "--samples", "6", "--out", one),
		args("collect", "--samples", "6", "--out", a, "--shard", "0/2"),
		args("collect", "--samples", "6", "--out", b, "--shard", "1/2"),
		{"collect", "--merge", "--out", m, a, b},
	} {
		if out, errOut, code := ppf(t, c...); code != 0 || out == "" {
			t.Fatalf("ppf %v: exit %d: %s", c, code, errOut)
		}
	}
	got, want := loadClean(t, m), loadClean(t, one)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged shards differ from the single run:\n%s\n---\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, errOut, code := ppf(t, args("collect", "--samples", "6", "--out", one, "--json")...)
	var res ppfnb.CollectResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Resumed != 6 || res.Measured != 0 {
		t.Errorf("rerun of a finished collection: exit %d %s %s", code, out, errOut)
	}
}

// The separate steps chain: collect, train-predictor, train-agent,
// predict, search; then the whole experiment, small.
func TestPipelineCLI(t *testing.T) {
	dir := t.TempDir()
	data, pr, ag := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "p.json"), filepath.Join(dir, "a.json")
	steps := [][]string{
		args("collect", "--samples", "60", "--out", data),
		{"train-predictor", "--model", "stories260K", "--data", data, "--out", pr, "--json"},
		{"train-agent", "--predictor", pr, "--model", "stories260K", "--out", ag, "--steps", "20", "--ratio-min", "0.1", "--ratio-max", "0.5"},
		{"predict", "--predictor", pr, "--agent", ag, "--ratio", "0.3", "--json"},
		args("search", "--predictor", pr, "--data", data, "--agent", ag, "--ratio", "0.3", "--rounds", "1", "--verify", "2", "--generations", "5", "--json"),
	}
	outs := make([]string, len(steps))
	for i, c := range steps {
		out, errOut, code := ppf(t, c...)
		if code != 0 {
			t.Fatalf("ppf %v: exit %d: %s", c, code, errOut)
		}
		outs[i] = out
	}
	var tp struct {
		Train, Test int
		Report      predictor.Report
	}
	if err := json.Unmarshal([]byte(outs[1]), &tp); err != nil || tp.Train != 48 || tp.Test != 12 || tp.Report.Overall.N != 12 {
		t.Errorf("train-predictor: %+v (%v)", tp, err)
	}
	var pred struct {
		Ratio, Perplexity float64
	}
	if err := json.Unmarshal([]byte(outs[3]), &pred); err != nil || math.Abs(pred.Ratio-0.3) > 0.002 || !(pred.Perplexity > 5) {
		t.Errorf("predict: %s (%v)", outs[3], err)
	}
	var sr struct {
		Best      ppfnb.Candidate `json:"best"`
		BestStart ppfnb.Candidate `json:"best_start"`
		Report    float64         `json:"report"`
	}
	if err := json.Unmarshal([]byte(outs[4]), &sr); err != nil || sr.Best.Perplexity > sr.BestStart.Perplexity || !(sr.Report > 5) {
		t.Errorf("search: %s (%v)", outs[4], err)
	}

	exp := filepath.Join(dir, "exp")
	out, errOut, code := ppf(t, "experiment", "--model", "stories260K", "--ratios", "0.3", "--quick", "--samples", "30", "--rounds", "1", "--out", exp)
	if code != 0 {
		t.Fatalf("experiment: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ppf-static", "ppf-dynamic", "flap", "Spearman", "one predictor score", "report slice"} {
		if !strings.Contains(out, want) {
			t.Errorf("experiment output lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"ppf: collect", "ppf: search"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("experiment stderr lacks the step %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(exp, "results.json")); err != nil {
		t.Error(err)
	}
}

// Bad input to the PPF commands: one clear error line and a non-zero exit.
func TestPPFBadInput(t *testing.T) {
	dir := t.TempDir()
	data, pr, ag := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "p.json"), filepath.Join(dir, "a.json")
	for _, c := range [][]string{
		args("collect", "--samples", "20", "--out", data),
		{"train-predictor", "--data", data, "--out", pr, "--test", "0"},
		{"train-agent", "--predictor", pr, "--out", ag, "--steps", "5", "--ratio-min", "0.1", "--ratio-max", "0.5"},
	} {
		if _, errOut, code := ppf(t, c...); code != 0 {
			t.Fatalf("ppf %v: exit %d: %s", c, code, errOut)
		}
	}
	// A predictor of another layer count under the same model ID.
	s4, _ := predictor.NewLlamaSpace("stories260K", predictor.LlamaDims{Layers: 4, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	syn, _ := predictor.NewSynthetic(s4, 1)
	d4, _ := syn.Dataset(30, 0.1, 0.5, 1, 1)
	cfg := predictor.DefaultTrainConfig()
	cfg.MaxEpochs = 2
	p4, err := predictor.Train(context.Background(), s4, d4, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pr4 := filepath.Join(dir, "p4.json")
	p4.Save(pr4)

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	d, _ := predictor.LoadDataset(data)
	var sb strings.Builder
	d[:2].WriteJSONL(&sb)
	lines := strings.SplitAfter(sb.String(), "\n")
	empty := write("empty.jsonl", lines[0]+"\n"+lines[1])
	nan := write("nan.jsonl", lines[0]+strings.Replace(lines[1], `"perplexity":`, `"perplexity":NaN,"x":`, 1))
	corrupt := write("corrupt.json", "{not json")
	good := `{"layers":[{"head_units":4,"mlp_units":100},{"head_units":4,"mlp_units":100},{"head_units":4,"mlp_units":100},{"head_units":4,"mlp_units":100},{"head_units":4,"mlp_units":100}]}`

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"predictor of another model", []string{"predict", "--predictor", pr, "--model", "babyllama-tok105", "--policy", good}, `made for model "stories260K", not "babyllama-tok105"`},
		{"search with a predictor of another model", []string{"search", "--model", "babyllama-tok105", "--predictor", pr, "--data", data, "--ratio", "0.3"}, "made for model"},
		{"predictor of another layer count", []string{"predict", "--predictor", pr4, "--model", "stories260K", "--policy", good}, "made for 4 layers"},
		{"policy of the wrong length", []string{"predict", "--predictor", pr, "--policy", `{"layers":[{"head_units":4,"mlp_units":100}]}`}, "the policy has 1 layers"},
		{"policy in query heads", []string{"predict", "--predictor", pr, "--policy", `{"layers":[{"heads":8,"channels":100}]}`}, "head_units"},
		{"ratio outside the agent's range", []string{"predict", "--predictor", pr, "--agent", ag, "--ratio", "0.8"}, "outside the agent's trained range"},
		{"ratio outside the agent's range in search", args("search", "--predictor", pr, "--data", data, "--agent", ag, "--ratio", "0.7"), "outside the agent's trained range"},
		{"empty dataset line", []string{"train-predictor", "--data", empty, "--out", filepath.Join(dir, "x.json")}, "line 2"},
		{"NaN perplexity", []string{"train-predictor", "--data", nan, "--out", filepath.Join(dir, "x.json")}, "line 2"},
		{"corrupt predictor file", []string{"predict", "--predictor", corrupt, "--policy", good}, "not a predictor file"},
		{"dataset of another slice", []string{"search", "--model", "stories260K", "--search-tokens", "1024", "--predictor", pr, "--data", data, "--ratio", "0.3"}, "measured on 510 tokens"},
		{"bad shard", args("collect", "--out", filepath.Join(dir, "s.jsonl"), "--shard", "2/2"), "0 <= i < n"},
		{"duplicate shards", []string{"collect", "--merge", "--out", filepath.Join(dir, "m.jsonl"), data, data}, "sample 0 is in"},
		{"collection of another seed", args("collect", "--samples", "20", "--seed", "9", "--out", data), "another seed"},
		{"too few records", []string{"train-predictor", "--data", write("two.jsonl", lines[0]+lines[1]), "--out", filepath.Join(dir, "x.json")}, "too few"},
		{"bad ratios", []string{"experiment", "--ratios", "0.3,1.2"}, "ratios in (0, 1)"},
		{"GPU backend in a CPU build", []string{"eval", "--backend", "cuda-bf16"}, "-tags cuda"},
		{"experiment on a missing text", []string{"experiment", "--quick", "--text", filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{"unknown backend in a collection", args("collect", "--samples", "2", "--backend", "gpu", "--out", filepath.Join(dir, "b.jsonl")), `unknown backend "gpu"`},
	} {
		out, errOut, code := ppf(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") > 2 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want one error mentioning %q", tc.name, code, out, errOut, tc.want)
		}
	}
}
