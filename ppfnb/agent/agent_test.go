package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

func llamaSpace(t testing.TB, id string, d predictor.LlamaDims, minHeads, minMLP int) predictor.Space {
	t.Helper()
	s, err := predictor.NewLlamaSpace(id, d, minHeads, minMLP)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// spaces are the shapes the tests run on: stories260K's, a GQA Llama-3
// shape scaled down (32 query heads over 8 key/value heads), one with
// minimums of 0 and 2, and one with uneven layers.
func spaces(t testing.TB) []predictor.Space {
	uneven := predictor.Space{ModelID: "uneven", Layers: []predictor.LayerSpace{
		{HeadUnits: 8, HeadUnitCost: 4096, MLPUnits: 100, MLPUnitCost: 96, MinHeadUnits: 1, MinMLPUnits: 1},
		{HeadUnits: 2, HeadUnitCost: 12288, MLPUnits: 50, MLPUnitCost: 96, MinHeadUnits: 0, MinMLPUnits: 40},
		{HeadUnits: 4, HeadUnitCost: 6144, MLPUnits: 64, MLPUnitCost: 200, MinHeadUnits: 3, MinMLPUnits: 8},
		{HeadUnits: 8, HeadUnitCost: 4096, MLPUnits: 300, MLPUnitCost: 96, MinHeadUnits: 0, MinMLPUnits: 0},
	}}
	return []predictor.Space{
		llamaSpace(t, "stories260K", predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1),
		llamaSpace(t, "llama3-like", predictor.LlamaDims{Layers: 16, Dim: 256, Heads: 32, KVHeads: 8, Hidden: 896}, 1, 1),
		llamaSpace(t, "minimums", predictor.LlamaDims{Layers: 8, Dim: 128, Heads: 8, KVHeads: 4, Hidden: 352}, 0, 2),
		uneven,
	}
}

// TestPoliciesMeetRatio: the agent's policies, trained or not, are valid
// and remove the asked ratio within half a unit, for many ratios.
func TestPoliciesMeetRatio(t *testing.T) {
	for _, s := range spaces(t) {
		cfg := DefaultConfig()
		cfg.RatioMax = min(0.8, s.MaxRatio())
		a, err := newAgent(s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Random weights with large logits: uneven allocations that hit
		// the minimums.
		a.net.init(rand.New(rand.NewPCG(1, 2)), 0.5)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range a.net.w2 {
			a.net.w2[i] = 3 * rng.NormFloat64()
		}
		maxCost := 0.0
		for _, l := range s.Layers {
			maxCost = max(maxCost, float64(l.HeadUnitCost), float64(l.MLPUnitCost))
		}
		for k := range 300 {
			ratio := cfg.RatioMin + (cfg.RatioMax-cfg.RatioMin)*float64(k)/299
			p, err := a.Policy(ratio)
			if err != nil {
				t.Fatalf("%s ratio %v: %v", s.ModelID, ratio, err)
			}
			if err := s.ValidatePolicy(p); err != nil {
				t.Fatalf("%s ratio %v: %v", s.ModelID, ratio, err)
			}
			off := math.Abs(float64(s.Removed(p)) - ratio*float64(s.Params()))
			limit := maxCost / 2
			if s.ModelID != "uneven" {
				limit = float64(s.Layers[0].MLPUnitCost) / 2 // half a channel
			}
			if off > limit+1e-6 {
				t.Fatalf("%s ratio %v: %v parameters off the budget, more than %v", s.ModelID, ratio, off, limit)
			}
		}
		for _, r := range []float64{cfg.RatioMin - 0.01, cfg.RatioMax + 0.01, math.NaN()} {
			if _, err := a.Policy(r); !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("%s ratio %v: err = %v, want ErrOutOfRange", s.ModelID, r, err)
			}
		}
	}
}

// sensitive is a synthetic task on 8 layers whose layers 0, 1 and 7 are
// five times as sensitive as the others.
func sensitive(t testing.TB) (predictor.Space, *predictor.Synthetic) {
	s := llamaSpace(t, "sensitive", predictor.LlamaDims{Layers: 8, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	y, err := predictor.NewSynthetic(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	for l := range y.HeadSens {
		f := 0.1
		if l <= 1 || l == 7 {
			f = 0.5
		}
		y.HeadSens[l], y.MLPSens[l] = f, f
	}
	return s, y
}

func quickConfig() Config {
	cfg := DefaultConfig()
	cfg.Steps = 150
	return cfg
}

// TestBeatsUniform: trained against a task with clearly more sensitive
// layers, the agent's policies score better than uniform at every ratio
// tried and prune the sensitive layers less than the others.
func TestBeatsUniform(t *testing.T) {
	s, y := sensitive(t)
	a, err := Train(context.Background(), s, y, quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Versus(y, []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		h, m := s.Fractions(r.Policy)
		t.Logf("ratio %.1f: agent %.4f, uniform %.4f, gain %.4f; kept heads %.2f, MLP %.2f", r.Ratio, r.Score, r.UniformScore, r.Gain, h, m)
		if r.Gain < 0.05 {
			t.Errorf("ratio %v: the agent's log-perplexity %.4f is not clearly below uniform's %.4f", r.Ratio, r.Score, r.UniformScore)
		}
		// Parameters kept in the sensitive layers against the others.
		var keepS, keepO float64
		for l := range h {
			k := (h[l]*float64(s.Layers[l].HeadUnits*s.Layers[l].HeadUnitCost) + m[l]*float64(s.Layers[l].MLPUnits*s.Layers[l].MLPUnitCost))
			if l <= 1 || l == 7 {
				keepS += k / 3
			} else {
				keepO += k / 5
			}
		}
		if keepS <= keepO {
			t.Errorf("ratio %v: sensitive layers keep %.0f parameters on average, the others %.0f: want more", r.Ratio, keepS, keepO)
		}
	}
	last := a.Curve()[len(a.Curve())-1]
	if first := a.Curve()[0]; last.MeanReward <= first.MeanReward {
		t.Errorf("mean reward went from %v to %v: no learning", first.MeanReward, last.MeanReward)
	}
}

func TestTrainDeterministic(t *testing.T) {
	s, y := sensitive(t)
	cfg := quickConfig()
	cfg.Steps = 20
	a, err := Train(context.Background(), s, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), s, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.net.params {
		if a.net.params[i] != b.net.params[i] {
			t.Fatalf("parameter %d differs between two trainings of one seed", i)
		}
	}
	for i := range a.Curve() {
		if a.Curve()[i].MeanReward != b.Curve()[i].MeanReward {
			t.Fatalf("curve step %d differs", i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, s, y, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
	bad := cfg
	bad.RatioMax = 0.99
	if _, err := Train(context.Background(), s, y, bad); !errors.Is(err, predictor.ErrUnreachable) {
		t.Fatalf("ratio range beyond the space's maximum: err = %v", err)
	}
}

func TestSaveLoad(t *testing.T) {
	s, y := sensitive(t)
	cfg := quickConfig()
	cfg.Steps = 20
	a, err := Train(context.Background(), s, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agent.json")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := Load(path, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{0.05, 0.33, 0.7} {
		la, _ := a.Logits(r)
		lb, _ := b.Logits(r)
		for j := range la {
			if la[j] != lb[j] {
				t.Fatalf("ratio %v: logit %d %v before saving, %v after", r, j, la[j], lb[j])
			}
		}
	}
	if len(b.Curve()) != 20 || b.Config().Steps != 20 {
		t.Fatalf("curve of %d steps, config %+v after loading", len(b.Curve()), b.Config())
	}
	other := s
	other.ModelID = "stories260K"
	if _, err := Load(path, other); !errors.Is(err, predictor.ErrMismatch) || !strings.Contains(err.Error(), `"sensitive", not "stories260K"`) {
		t.Fatalf("another model: err = %v", err)
	}
	deeper := llamaSpace(t, "sensitive", predictor.LlamaDims{Layers: 9, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if _, err := Load(path, deeper); !errors.Is(err, predictor.ErrMismatch) || !strings.Contains(err.Error(), "8 layers") {
		t.Fatalf("another layer count: err = %v", err)
	}
	var buf bytes.Buffer
	if err := a.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = 9
	v9, _ := json.Marshal(m)
	if _, err := Decode(bytes.NewReader(v9)); !errors.Is(err, predictor.ErrMismatch) || !strings.Contains(err.Error(), "version 9") {
		t.Fatalf("version 9: err = %v", err)
	}
	m["version"], m["format"] = 1, "ppf-predictor"
	pf, _ := json.Marshal(m)
	if _, err := Decode(bytes.NewReader(pf)); !errors.Is(err, predictor.ErrMismatch) {
		t.Fatalf("a predictor's format: err = %v", err)
	}
	m["format"] = "ppf-agent"
	m["weights"] = m["weights"].([]any)[:4]
	short, _ := json.Marshal(m)
	if _, err := Decode(bytes.NewReader(short)); err == nil {
		t.Fatal("a file missing a weight tensor was accepted")
	}
}

// TestGradient checks the policy network's backward pass against
// central differences.
func TestGradient(t *testing.T) {
	n := newPolicyNet(6, 4, 3)
	n.init(rand.New(rand.NewPCG(1, 1)), 0.5)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range n.w2 {
		n.w2[i] = 0.5 * rng.NormFloat64()
	}
	p := n.newPass()
	dmu := []float64{0.3, -1, 2, 0.5}
	f := func() float64 {
		n.forward(0.37, p)
		s := 0.0
		for d, g := range dmu {
			s += g * p.mu[d]
		}
		return s
	}
	f()
	grad := make([]float64, len(n.params))
	n.backward(p, dmu, make([]float64, n.H), grad)
	for i := range len(n.params) - n.D { // log_std does not enter μ
		old := n.params[i]
		n.params[i] = old + 1e-6
		up := f()
		n.params[i] = old - 1e-6
		down := f()
		n.params[i] = old
		if num := (up - down) / 2e-6; math.Abs(num-grad[i]) > 1e-6*max(1, math.Abs(num)) {
			t.Fatalf("parameter %d: gradient %v, central difference %v", i, grad[i], num)
		}
	}
}

// BenchmarkPolicy times one policy from a trained-size agent for a
// 32-layer model.
func BenchmarkPolicy(b *testing.B) {
	s := llamaSpace(b, "llama-32", predictor.LlamaDims{Layers: 32, Dim: 4096, Heads: 32, KVHeads: 8, Hidden: 11008}, 1, 1)
	a, err := newAgent(s, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	a.net.init(rand.New(rand.NewPCG(1, 2)), 0.5)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range a.net.w2 {
		a.net.w2[i] = 0.3 * rng.NormFloat64()
	}
	p := predictor.Policy{Layers: make([]predictor.LayerPolicy, 32)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := a.PolicyInto(0.05+0.65*float64(i%100)/99, p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
