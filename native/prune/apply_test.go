package prune

import (
	"context"
	"math"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// Masks and slicing give the same logits and perplexity, with and without
// compensation biases, for every method, and Reset restores the dense model.
func TestMaskAndSliceAgree(t *testing.T) {
	m := smallModel(1)
	calib := randomTokens(256, m.VocabSize, 1)
	eval := randomTokens(64, m.VocabSize, 2)
	st := calibrate(t, m, calib)
	dense := logits(t, m, eval)
	for _, method := range Methods() {
		for _, bias := range []BiasMode{BiasOff, BiasOn} {
			if method == MethodShortGPT && bias == BiasOn {
				continue
			}
			p, err := NewPlan(m, st, Options{Method: method, Ratio: 0.4, Bias: bias, Seed: 3})
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			small, err := Slice(m, p)
			if err != nil {
				t.Fatalf("%s: slice: %v", method, err)
			}
			mk, err := Apply(m, p)
			if err != nil {
				t.Fatalf("%s: apply: %v", method, err)
			}
			masked := logits(t, m, eval)
			pm, err := native.Perplexity(context.Background(), m, eval, native.EvalOptions{SeqLen: 32})
			if err != nil {
				t.Fatal(err)
			}
			mk.Reset()
			sliced := logits(t, small, eval)
			ps, err := native.Perplexity(context.Background(), small, eval, native.EvalOptions{SeqLen: 32})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(masked, sliced); d > 1e-5 {
				t.Errorf("%s bias %v: masked and sliced logits differ by %g", method, bias, d)
			}
			if math.Abs(pm.Perplexity-ps.Perplexity) > 1e-6*pm.Perplexity {
				t.Errorf("%s bias %v: perplexity masked %v sliced %v", method, bias, pm.Perplexity, ps.Perplexity)
			}
			if d := maxDiff(dense, masked); d == 0 {
				t.Errorf("%s bias %v: pruning changed nothing", method, bias)
			}
			if d := maxDiff(dense, logits(t, m, eval)); d != 0 {
				t.Errorf("%s bias %v: Reset left the model changed by %g", method, bias, d)
			}
			if got := p.Policy.Ratio(ShapeOf(m)); small.NumParams() >= m.NumParams() || got <= 0 {
				t.Errorf("%s: sliced model has %d params of %d, ratio %v", method, small.NumParams(), m.NumParams(), got)
			}
		}
	}
}

// Pruning nothing (ratio 0) leaves the logits exactly as they were, in
// both ways.
func TestPruneNothing(t *testing.T) {
	m := smallModel(2)
	st := calibrate(t, m, randomTokens(128, m.VocabSize, 3))
	eval := randomTokens(48, m.VocabSize, 4)
	dense := logits(t, m, eval)
	for _, method := range Methods() {
		p, err := NewPlan(m, st, Options{Method: method, Ratio: 0})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if r := p.Policy.Ratio(ShapeOf(m)); r != 0 {
			t.Errorf("%s: ratio 0 gave a policy of ratio %v", method, r)
		}
		small, err := Slice(m, p)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(dense, logits(t, small, eval)); d != 0 {
			t.Errorf("%s: sliced dense model differs by %g", method, d)
		}
		mk, err := Apply(m, p)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(dense, logits(t, m, eval)); d != 0 {
			t.Errorf("%s: masked dense model differs by %g", method, d)
		}
		mk.Reset()
	}
}

// The real tiny models: masks and slices agree on TinyStories text.
func TestMaskAndSliceAgreeTinyModels(t *testing.T) {
	for _, name := range []string{"stories260K", "babyllama-tok105"} {
		m, tk := loadTiny(t, name)
		ids := tinyStories(t, tk)
		calib, held, err := Split(ids, 1024)
		if err != nil {
			t.Fatal(err)
		}
		st, err := Calibrate(context.Background(), m, calib, CalibOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(m, st, Options{Method: MethodFLAP, Ratio: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		small, err := Slice(m, p)
		if err != nil {
			t.Fatal(err)
		}
		window := held[:128]
		mk, err := Apply(m, p)
		if err != nil {
			t.Fatal(err)
		}
		masked := logits(t, m, window)
		mk.Reset()
		if d := maxDiff(masked, logits(t, small, window)); d > 1e-5 {
			t.Errorf("%s: masked and sliced logits differ by %g", name, d)
		}
	}
}

func TestApplyRefusesTwice(t *testing.T) {
	m := smallModel(3)
	p, err := NewPlan(m, nil, Options{Method: MethodUniform, Ratio: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := Apply(m, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(m, p); err == nil {
		t.Error("a second Apply without Reset was accepted")
	}
	if _, err := Slice(m, p); err == nil {
		t.Error("Slice of a masked model was accepted")
	}
	mk.Reset()
	if _, err := Apply(m, p); err != nil {
		t.Errorf("Apply after Reset: %v", err)
	}
}
