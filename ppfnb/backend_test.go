package ppfnb

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
)

// copyBackend behaves as a GPU backend does: Load takes its own copy of
// the model, and only Sync brings the masks and biases set on the
// original over. A measurement that forgot to Sync would see the dense
// model (or the previous policy).
type copyBackend struct{ syncs *int }

func (b copyBackend) Name() string { return "test-copy" }

func (b copyBackend) Load(m *native.Model) (native.Evaluator, error) {
	c := *m
	c.Layers = append([]native.Layer(nil), m.Layers...)
	ev, err := native.GetBackend("cpu")
	if err != nil {
		return nil, err
	}
	cpu, err := ev.Load(&c)
	return &copyEvaluator{Evaluator: cpu, orig: m, copy: &c, syncs: b.syncs}, err
}

type copyEvaluator struct {
	native.Evaluator
	orig, copy *native.Model
	syncs      *int
}

func (e *copyEvaluator) Sync() error {
	*e.syncs++
	for i := range e.copy.Layers {
		o, c := &e.orig.Layers[i], &e.copy.Layers[i]
		c.HeadMask, c.ChannelMask, c.AttnBias, c.MLPBias = o.HeadMask, o.ChannelMask, o.AttnBias, o.MLPBias
	}
	return e.Evaluator.Sync()
}

var copySyncs int

func init() { native.RegisterBackend(copyBackend{syncs: &copySyncs}) }

func TestEvaluatorOnBackend(t *testing.T) {
	ctx := context.Background()
	cpu := evaluator(t)
	on, err := NewEvaluator(ctx, EvaluatorOptions{Model: "stories260K", SearchTokens: 1024, Backend: "test-copy"})
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	if on.LM.Backend() != "test-copy" || cpu.LM.Backend() != "cpu" {
		t.Fatalf("backends %q and %q", on.LM.Backend(), cpu.LM.Backend())
	}
	// Dense, two policies, dense again: each must follow the masks of its
	// own measurement, not the one before.
	var policies []*native.EvalResult
	for _, step := range []struct {
		method string
		ratio  float64
	}{{"", 0}, {"flap", 0.5}, {"uniform", 0.3}, {"", 0}} {
		measure := func(e *Evaluator) native.EvalResult {
			t.Helper()
			var plan *prune.Plan
			if step.method != "" {
				p, err := e.BaselinePlan(step.method, step.ratio, 1)
				if err != nil {
					t.Fatal(err)
				}
				plan = p
			}
			res, err := e.MeasurePlan(ctx, plan, SliceSearch)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		before := copySyncs
		want, got := measure(cpu), measure(on)
		if copySyncs == before {
			t.Errorf("%s %.1f: the backend was not synced before measuring", step.method, step.ratio)
		}
		if math.Abs(got.Perplexity-want.Perplexity) > 1e-9*want.Perplexity || got.Tokens != want.Tokens {
			t.Errorf("%s %.1f: backend perplexity %v over %d tokens, CPU engine %v over %d",
				step.method, step.ratio, got.Perplexity, got.Tokens, want.Perplexity, want.Tokens)
		}
		policies = append(policies, &got)
	}
	if policies[1].Perplexity <= policies[0].Perplexity*1.05 {
		t.Errorf("pruning half the model barely moved perplexity (%v to %v): the masks did not reach the backend",
			policies[0].Perplexity, policies[1].Perplexity)
	}

	// Evaluate follows the backend too, with the same checks as the engine.
	lm := on.LM
	if _, err := lm.Evaluate(ctx, DefaultText, native.EvalOptions{SeqLen: lm.Model.SeqLen + 1}); err == nil || !strings.Contains(err.Error(), "context") {
		t.Errorf("seqlen beyond the context on a backend: %v", err)
	}
	if err := lm.Close(); err != nil || lm.Backend() != "cpu" {
		t.Errorf("Close: %v, backend now %q", err, lm.Backend())
	}
}

func TestUnknownBackend(t *testing.T) {
	lm, err := Load("stories260K", "")
	if err != nil {
		t.Fatal(err)
	}
	err = lm.UseBackend("cuda-bf16-typo")
	if !errors.Is(err, native.ErrUnknownBackend) || !strings.Contains(err.Error(), "cpu") || !strings.Contains(err.Error(), "-tags cuda") {
		t.Errorf("unknown backend: %v", err)
	}
	if lm.Backend() != "cpu" {
		t.Errorf("after a failed UseBackend the LM runs on %q", lm.Backend())
	}
}
