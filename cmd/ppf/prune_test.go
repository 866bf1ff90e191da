package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const wiki = "wikitext-2-raw/wiki.test.raw"

func TestPruneJSON(t *testing.T) {
	out, errOut, code := ppf(t, "prune", "--model", "stories260K", "--ratio", "0.3", "--method", "flap",
		"--eval", "tinystories/TinyStories-valid-excerpt.txt", "--seqlen", "128", "--max-tokens", "1280", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep pruneReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if math.Abs(rep.AchievedRatio-0.3) > 3*64/float64(rep.PrunableBefore) || rep.PrunableAfter >= rep.PrunableBefore || rep.ParamsAfter >= rep.ParamsBefore {
		t.Errorf("achieved %v, prunable %d -> %d, params %d -> %d", rep.AchievedRatio, rep.PrunableBefore, rep.PrunableAfter, rep.ParamsBefore, rep.ParamsAfter)
	}
	if len(rep.Policy.Layers) != 5 || len(rep.HeadRatios) != 5 || !rep.Bias || rep.Score != "fluctuation" {
		t.Errorf("policy %+v, head ratios %v, bias %v, score %q", rep.Policy, rep.HeadRatios, rep.Bias, rep.Score)
	}
	// evaluated on the held-out part: the 1280 tokens after the 4096 of calibration
	if rep.Eval == nil || rep.Eval.FirstToken != 4096 || rep.Eval.Windows != 10 || rep.Perplexity == nil || *rep.Perplexity < 5 || *rep.Perplexity > 100 {
		t.Errorf("eval %+v", rep.Eval)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"policy", "achieved_ratio", "params_before", "params_after", "perplexity", "calib", "eval"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// A pruned model saved with --out loads back with ppf eval, tokenizer
// included, and measures the same perplexity.
func TestPruneSaveAndEval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pruned")
	out, errOut, code := ppf(t, "prune", "--model", "babyllama-tok105", "--ratio", "0.4", "--method", "owl",
		"--eval", wiki, "--seqlen", "128", "--max-tokens", "1024", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep pruneReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tok105.model", "ppf_prune.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("saved folder lacks %s", f)
		}
	}
	out, errOut, code = ppf(t, "eval", "--model", dir, "--data", wiki, "--seqlen", "128", "--max-tokens", "1024", "--json")
	if code != 0 {
		t.Fatalf("eval of the saved model: exit %d: %s", code, errOut)
	}
	var ev map[string]any
	json.Unmarshal([]byte(out), &ev)
	if ev["perplexity"] != *rep.Perplexity {
		t.Errorf("saved model's perplexity %v, the pruned model's %v", ev["perplexity"], *rep.Perplexity)
	}

	// a checkpoint whose config disagrees with its tensors is refused
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	bad := strings.Replace(string(cfg), `"intermediate_size": 352`, `"intermediate_size": 300`, 1)
	bad = strings.Replace(bad, `"num_key_value_heads": 3`, `"num_key_value_heads": 4`, 1)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(bad), 0o644)
	if _, errOut, code := ppf(t, "eval", "--model", dir, "--seqlen", "128"); code == 0 || !strings.Contains(errOut, "bad model") {
		t.Errorf("inconsistent checkpoint: exit %d, stderr %q", code, errOut)
	}
}

func TestSpeed(t *testing.T) {
	out, errOut, code := ppf(t, "speed", "--model", "stories260K", "--tokens", "512", "--seqlen", "128", "--repeat", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep speedReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Tokens != 512 || rep.Sliced.Params >= rep.Dense.Params || rep.EvalSpeedup <= 0 || rep.DecodeSpeedup <= 0 || rep.AchievedRatio != 0.5 {
		t.Errorf("%+v", rep)
	}
}

func TestPruneBadInput(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny.txt")
	os.WriteFile(tiny, []byte("Once upon a time."), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no ratio", []string{"prune", "--model", "stories260K"}, "--ratio is required"},
		{"ratio 1", []string{"prune", "--ratio", "1"}, "--ratio must be a fraction in [0, 1), got 1"},
		{"unreachable", []string{"prune", "--ratio", "0.99", "--method", "uniform"}, "out of reach"},
		{"shortgpt unreachable", []string{"prune", "--ratio", "0.95", "--method", "shortgpt"}, "keeps at least one"},
		{"unknown method", []string{"prune", "--ratio", "0.2", "--method", "magic"}, "use one of uniform"},
		{"short calibration", []string{"prune", "--ratio", "0.2", "--calib", tiny}, "calibration tokens asked for"},
		{"nothing left to evaluate", []string{"prune", "--ratio", "0.2", "--method", "uniform", "--calib-tokens", "15530",
			"--eval", "tinystories/TinyStories-valid-excerpt.txt"}, "fewer than one window"},
		{"bad bias", []string{"prune", "--ratio", "0.2", "--bias", "maybe"}, "use auto, on or off"},
		{"score for flap", []string{"prune", "--ratio", "0.2", "--score", "magnitude"}, "has its own score"},
		{"speed unreachable", []string{"speed", "--ratio", "0.99"}, "out of reach"},
	} {
		out, errOut, code := ppf(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error mentioning %q", tc.name, code, out, errOut, tc.want)
		}
	}
}
