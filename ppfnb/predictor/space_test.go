package predictor

import (
	"errors"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// mixedSpace has layers of different sizes and minimums: a layer whose
// MLP cannot be pruned, one whose attention can be emptied, one with no
// attention at all, and high minimums.
func mixedSpace(t testing.TB) Space {
	t.Helper()
	s := Space{ModelID: "mixed", Layers: []LayerSpace{
		{HeadUnits: 8, HeadUnitCost: 4096, MLPUnits: 100, MLPUnitCost: 96, MinHeadUnits: 1, MinMLPUnits: 1},
		{HeadUnits: 2, HeadUnitCost: 12288, MLPUnits: 50, MLPUnitCost: 96, MinHeadUnits: 0, MinMLPUnits: 50},
		{HeadUnits: 0, HeadUnitCost: 4096, MLPUnits: 300, MLPUnitCost: 96, MinHeadUnits: 0, MinMLPUnits: 10},
		{HeadUnits: 4, HeadUnitCost: 6144, MLPUnits: 64, MLPUnitCost: 200, MinHeadUnits: 3, MinMLPUnits: 32},
		{HeadUnits: 8, HeadUnitCost: 4096, MLPUnits: 128, MLPUnitCost: 96, MinHeadUnits: 0, MinMLPUnits: 0},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLlamaSpaceCosts(t *testing.T) {
	s := storiesSpace(t)
	l := s.Layers[0]
	// A group of stories260K: 2 query heads of width 8 (q and o: 2·2·8·64)
	// plus one key and one value head (2·8·64); a channel: 3·64.
	if l.HeadUnitCost != 3072 || l.MLPUnitCost != 192 || l.HeadUnits != 4 || l.MLPUnits != 172 {
		t.Fatalf("layer space %+v, want 4 groups of 3072 and 172 channels of 192", l)
	}
	if got, want := s.Params(), 5*(4*3072+172*192); got != want {
		t.Fatalf("Params = %d, want %d", got, want)
	}
	if _, err := NewLlamaSpace("x", LlamaDims{Layers: 2, Dim: 64, Heads: 6, KVHeads: 4, Hidden: 10}, 1, 1); !errors.Is(err, ErrBadSpace) {
		t.Fatalf("6 heads over 4 KV heads: err = %v, want ErrBadSpace", err)
	}
}

func TestFractionsRoundTrip(t *testing.T) {
	s := storiesSpace(t)
	p := Policy{Layers: []LayerPolicy{{HeadUnits: 4, MLPUnits: 172}, {HeadUnits: 2, MLPUnits: 86}, {}, {HeadUnits: 1, MLPUnits: 1}, {HeadUnits: 3, MLPUnits: 100}}}
	p.Layers[2].Drop = true
	if err := s.ValidatePolicy(p); err != nil {
		t.Fatal(err)
	}
	h, m := s.Fractions(p)
	if h[1] != 0.5 || m[1] != 0.5 || h[2] != 0 || m[2] != 0 {
		t.Fatalf("fractions %v %v", h, m)
	}
	q, err := s.FromFractions(h, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Layers {
		if p.Layers[i] != q.Layers[i] {
			t.Fatalf("layer %d: %+v back as %+v", i, p.Layers[i], q.Layers[i])
		}
	}
	want := float64(2*3072+86*192+4*3072+172*192+3*3072+171*192+1*3072+72*192) / float64(s.Params())
	if got := s.Ratio(p); math.Abs(got-want) > 1e-15 {
		t.Fatalf("Ratio = %v, want %v", got, want)
	}
	bad := Policy{Layers: append([]LayerPolicy{{HeadUnits: 0, MLPUnits: 172}}, p.Layers[1:]...)}
	if err := s.ValidatePolicy(bad); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("0 groups under a minimum of 1: err = %v", err)
	}
}

// TestAllocateMeetsRatio checks that allocated policies are valid and
// remove the budget within half a unit: of an MLP channel wherever
// channels can still move, of the dearest unit at worst.
func TestAllocateMeetsRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []Space{storiesSpace(t), llamaSpace(t, 16), mixedSpace(t)} {
		maxCost, mlpCost := 0.0, math.Inf(1)
		for _, l := range s.Layers {
			maxCost = max(maxCost, float64(l.HeadUnitCost), float64(l.MLPUnitCost))
			mlpCost = min(mlpCost, float64(l.MLPUnitCost))
		}
		for k := range 400 {
			ratio := s.MaxRatio() * float64(k) / 399
			h, m := make([]float64, len(s.Layers)), make([]float64, len(s.Layers))
			for i := range h {
				h[i], m[i] = math.Exp(2*rng.NormFloat64()), math.Exp(2*rng.NormFloat64())
				if k%7 == 0 {
					h[i] = 0 // zero weights: used only when the others are full
				}
			}
			p, err := s.Allocate(ratio, h, m)
			if err != nil {
				t.Fatalf("%s ratio %v: %v", s.ModelID, ratio, err)
			}
			if err := s.ValidatePolicy(p); err != nil {
				t.Fatalf("%s ratio %v: %v", s.ModelID, ratio, err)
			}
			off := math.Abs(float64(s.Removed(p)) - ratio*float64(s.Params()))
			if off > maxCost/2+1e-6 {
				t.Fatalf("%s ratio %v: removes %d parameters, %v off the budget", s.ModelID, ratio, s.Removed(p), off)
			}
			if s.ModelID != "mixed" && ratio < 0.9*s.MaxRatio() && off > mlpCost/2+1e-6 {
				t.Fatalf("%s ratio %v: %v parameters off, more than half a channel (%v): %v %v %v", s.ModelID, ratio, off, mlpCost/2, p, h, m)
			}
		}
		if _, err := s.Uniform(s.MaxRatio() + 0.01); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("%s: ratio beyond MaxRatio: err = %v, want ErrUnreachable", s.ModelID, err)
		}
		p, err := s.Uniform(s.MaxRatio())
		if err != nil {
			t.Fatal(err)
		}
		for i, lp := range p.Layers {
			if l := s.Layers[i]; lp.HeadUnits != l.MinHeadUnits || lp.MLPUnits != l.MinMLPUnits {
				t.Fatalf("%s at MaxRatio: layer %d keeps %+v, want its minimums", s.ModelID, i, lp)
			}
		}
	}
}

func TestUniformIsUniform(t *testing.T) {
	s := llamaSpace(t, 8)
	for _, ratio := range []float64{0.1, 0.25, 0.5, 0.7} {
		p, err := s.Uniform(ratio)
		if err != nil {
			t.Fatal(err)
		}
		h, m := s.Fractions(p)
		for i := range h {
			// Within one head group (1/8) and a few channels of the target.
			if math.Abs(1-h[i]-ratio) > 1.0/8+1e-9 || math.Abs(1-m[i]-ratio) > 0.02 {
				t.Fatalf("ratio %v: layer %d removes %v of heads and %v of channels", ratio, i, 1-h[i], 1-m[i])
			}
		}
	}
}

func TestAllocateFollowsWeights(t *testing.T) {
	s := llamaSpace(t, 4)
	ones := []float64{1, 1, 1, 1}
	p, err := s.Allocate(0.3, []float64{1, 1, 1, 1}, []float64{0.01, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := s.Allocate(0.3, ones, ones)
	if p.Layers[0].MLPUnits <= u.Layers[0].MLPUnits {
		t.Fatalf("a low weight on layer 0's MLP keeps %d channels, uniform %d: want more", p.Layers[0].MLPUnits, u.Layers[0].MLPUnits)
	}
	// A heavy weight empties the layer to its minimum before the others move much.
	p, err = s.Allocate(0.3, []float64{1000, 1, 1, 1}, []float64{1000, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Layers[0].HeadUnits != 1 || p.Layers[0].MLPUnits != 1 {
		t.Fatalf("heavy weights on layer 0: it keeps %+v, want its minimums", p.Layers[0])
	}
}

func TestSamplePoliciesDeterministic(t *testing.T) {
	s := mixedSpace(t)
	a, err := s.SamplePolicies(50, 0.05, 0.9, 1.5, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.SamplePolicies(50, 0.05, 0.9, 1.5, 9)
	for i := range a {
		if err := s.ValidatePolicy(a[i]); err != nil {
			t.Fatal(err)
		}
		if r := s.Ratio(a[i]); r < 0.04 || r > s.MaxRatio()+1e-9 {
			t.Fatalf("policy %d ratio %v outside [0.05, MaxRatio %v]", i, r, s.MaxRatio())
		}
		for l := range a[i].Layers {
			if a[i].Layers[l] != b[i].Layers[l] {
				t.Fatalf("policy %d differs between two draws of one seed", i)
			}
		}
	}
}

// The predictor and the agent build for the browser without the engine:
// of native/ they import only its vocabulary package, native/policy.
func TestNoEngineImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "../agent").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/ppfkit/ppf/native") && p != "github.com/ppfkit/ppf/native/policy" {
			t.Errorf("the predictor or the agent imports %s", p)
		}
	}
}
