package native_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/backendtest"
)

// The CPU engine passes the backend conformance suite against the float64
// reference.
func TestCPUBackendConformance(t *testing.T) {
	b, err := native.GetBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, b, backendtest.Float32)
}

func TestUnknownBackend(t *testing.T) {
	if _, err := native.GetBackend("tpu"); err == nil {
		t.Error("GetBackend(tpu) succeeded")
	}
}

// Perplexity with EvalOptions.On runs the windows on the backend after the
// engine's own checks, with the same protocol: the CPU backend gives the
// engine's numbers.
func TestPerplexityOnBackend(t *testing.T) {
	m := native.RandomModel(native.Config{Dim: 64, HiddenDim: 96, NumLayers: 2, NumHeads: 8, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 50, SeqLen: 32}, 3)
	tokens := make([]int, 200)
	for i := range tokens {
		tokens[i] = (i*7 + i/3) % 50
	}
	b, _ := native.GetBackend("cpu")
	ev, err := b.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, opt := range []native.EvalOptions{{SeqLen: 32}, {SeqLen: 16, MaxTokens: 100}} {
		want, err := native.Perplexity(ctx, m, tokens, opt)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		opt.On, opt.Progress = ev, func(done, total int) { calls++ }
		got, err := native.Perplexity(ctx, m, tokens, opt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.NLL-want.NLL) > 1e-12*want.NLL || got.Tokens != want.Tokens || got.Windows != want.Windows || calls == 0 {
			t.Errorf("seqlen %d: on the backend nll %v over %d tokens in %d windows (%d progress calls), engine %v over %d in %d",
				opt.SeqLen, got.NLL, got.Tokens, got.Windows, calls, want.NLL, want.Tokens, want.Windows)
		}
	}
	if _, err := native.Perplexity(ctx, m, tokens, native.EvalOptions{SeqLen: 33, On: ev}); err == nil || !strings.Contains(err.Error(), "context of 32") {
		t.Errorf("seqlen beyond the context on a backend: %v", err)
	}
	if _, err := native.Perplexity(ctx, m, []int{1, 60, 2}, native.EvalOptions{SeqLen: 3, On: ev}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("a token outside the vocabulary on a backend: %v", err)
	}
}
