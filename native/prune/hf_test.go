package prune

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// A non-uniformly pruned model (FLAP with biases, then one layer dropped)
// saves as a Hugging Face checkpoint and loads back with identical logits.
func TestSaveLoadPrunedModel(t *testing.T) {
	m := smallModel(13)
	st := calibrate(t, m, randomTokens(128, m.VocabSize, 13))
	p, err := NewPlan(m, st, Options{Method: MethodFLAP, Ratio: 0.35})
	if err != nil {
		t.Fatal(err)
	}
	p.Policy.Layers[2] = LayerPolicy{Drop: true}
	p.Groups[2], p.Channels[2] = []int{}, []int{}
	small, err := Slice(m, p)
	if err != nil {
		t.Fatal(err)
	}
	if small.NumLayers != 3 {
		t.Fatalf("sliced model has %d layers, want 3", small.NumLayers)
	}
	dir := t.TempDir()
	if err := native.SaveHF(small, dir); err != nil {
		t.Fatal(err)
	}
	back, err := native.LoadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	eval := randomTokens(40, m.VocabSize, 14)
	if d := maxDiff(logits(t, small, eval), logits(t, back, eval)); d != 0 {
		t.Errorf("logits after save and load differ by %g", d)
	}
	for i := range back.Layers {
		a, b := small.Layers[i], back.Layers[i]
		if a.NumHeads != b.NumHeads || a.NumKVHeads != b.NumKVHeads || a.HiddenDim != b.HiddenDim || (a.AttnBias == nil) != (b.AttnBias == nil) {
			t.Errorf("layer %d: saved %d/%d heads %d channels, loaded %d/%d %d", i, a.NumHeads, a.NumKVHeads, a.HiddenDim, b.NumHeads, b.NumKVHeads, b.HiddenDim)
		}
	}

	// a config that disagrees with the tensors is refused
	cfgPath := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	layers := cfg["ppf_layers"].([]any)
	layers[0].(map[string]any)["intermediate_size"] = 5
	b, _ = json.Marshal(cfg)
	os.WriteFile(cfgPath, b, 0o644)
	if _, err := native.LoadHF(dir); !errors.Is(err, native.ErrBadModel) || !strings.Contains(err.Error(), "ppf_layers[0]") {
		t.Errorf("config and tensors disagree: %v", err)
	}
}
