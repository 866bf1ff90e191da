// Package backendtest is the conformance suite that every compute backend
// of package native passes: the CPU engine in its own tests, the CUDA
// backend in native/cuda's. Each case compares a backend's logits and
// log-likelihoods with Reference, a float64 transcription of the Llama
// equations that shares no code with any backend.
package backendtest

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/tokenizer"
)

// Tolerance bounds a backend's error: the largest absolute logit difference
// may be Logits times the largest reference logit magnitude (at least 1),
// and a window's mean negative log-likelihood may differ by NLL nats.
type Tolerance struct {
	Logits float64
	NLL    float64
}

// Float32 suits backends that compute in float32 throughout.
var Float32 = Tolerance{Logits: 2e-5, NLL: 1e-5}

// Run checks b on a set of models: grouped-query attention with an untied
// classifier, Llama 3.1 rope scaling, non-uniform pruned layers with
// compensation biases, masks changed after Load (Sync), per-window
// negative log-likelihoods, and the real stories260K checkpoint.
func Run(t *testing.T, b native.Backend, tol Tolerance) {
	gqa := native.Config{Dim: 64, HiddenDim: 96, NumLayers: 3, NumHeads: 8, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 50, SeqLen: 64, RopeTheta: 10000, NormEps: 1e-5}
	rope := native.Config{Dim: 32, HiddenDim: 24, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 20, SeqLen: 64, RopeTheta: 500000, NormEps: 1e-6,
		RopeScaling: &native.RopeScaling{Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8}}
	tokens := []int{1, 4, 19, 3, 3, 8, 0, 17, 2, 11, 5, 13, 7}
	// Llama's real head widths, over more tokens than one 64-token tile
	wide64 := native.Config{Dim: 256, HiddenDim: 96, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 64,
		VocabSize: 50, SeqLen: 160, RopeTheta: 10000, NormEps: 1e-5}
	wide128 := native.Config{Dim: 256, HiddenDim: 64, NumLayers: 2, NumHeads: 2, NumKVHeads: 1, HeadDim: 128,
		VocabSize: 50, SeqLen: 160, RopeTheta: 10000, NormEps: 1e-5}
	long := make([]int, 150)
	for i := range long {
		long[i] = (i*7 + i*i/5) % 50
	}

	t.Run("GQAUntied", func(t *testing.T) {
		check(t, b, native.RandomModel(gqa, 1), tokens, tol)
	})
	t.Run("RopeScaling", func(t *testing.T) {
		check(t, b, native.RandomModel(rope, 2), tokens, tol)
	})
	t.Run("HeadDim64", func(t *testing.T) {
		check(t, b, native.RandomModel(wide64, 6), long, tol)
	})
	t.Run("HeadDim128Masked", func(t *testing.T) {
		m := native.RandomModel(wide128, 7)
		m.Layers[1].HeadMask = []bool{false, true}
		check(t, b, m, long, tol)
	})
	t.Run("NonUniformWithBiases", func(t *testing.T) {
		check(t, b, nonUniform(native.RandomModel(gqa, 3)), tokens, tol)
	})
	t.Run("MasksFollowSync", func(t *testing.T) {
		m := native.RandomModel(gqa, 4)
		ev, err := b.Load(m)
		if err != nil {
			t.Fatal(err)
		}
		defer ev.Close()
		compare(t, ev, m, tokens, tol, "dense")
		m.Layers[0].HeadMask = []bool{true, true, false, false, true, true, true, true}
		m.Layers[1].ChannelMask = make([]bool, gqa.HiddenDim)
		for i := range m.Layers[1].ChannelMask {
			m.Layers[1].ChannelMask[i] = i%3 != 0
		}
		m.Layers[1].MLPBias = filled(gqa.Dim, 0.05)
		m.Layers[2].HeadMask = make([]bool, gqa.NumHeads) // all heads off
		m.Layers[2].AttnBias = filled(gqa.Dim, -0.02)
		if err := ev.Sync(); err != nil {
			t.Fatal(err)
		}
		compare(t, ev, m, tokens, tol, "masked")
		for i := range m.Layers {
			m.Layers[i].HeadMask, m.Layers[i].ChannelMask, m.Layers[i].AttnBias, m.Layers[i].MLPBias = nil, nil, nil, nil
		}
		if err := ev.Sync(); err != nil {
			t.Fatal(err)
		}
		compare(t, ev, m, tokens, tol, "masks removed")
	})
	t.Run("WindowNLL", func(t *testing.T) {
		m := native.RandomModel(gqa, 5)
		ev, err := b.Load(m)
		if err != nil {
			t.Fatal(err)
		}
		defer ev.Close()
		windows := [][]int{tokens[:8], tokens[5:13]}
		got, err := ev.WindowNLL(context.Background(), windows)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range windows {
			want := referenceNLL(Reference(m, w), w, m.VocabSize)
			d := math.Abs(got[i]-want) / float64(len(w)-1)
			t.Logf("window %d: mean nll difference %.3g nats", i, d)
			if d > tol.NLL {
				t.Errorf("window %d: nll %.6f, reference %.6f (mean difference %g nats)", i, got[i], want, d)
			}
		}
	})
	t.Run("Stories260K", func(t *testing.T) {
		dir := filepath.Join(native.ModelsDir(), "stories260K")
		m, err := native.LoadLlama2C(filepath.Join(dir, "stories260K.bin"))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := tokenizer.Load(filepath.Join(dir, "tok512.bin"))
		if err != nil {
			t.Fatal(err)
		}
		text, err := native.ReadText(filepath.Join(native.DataDir(), "tinystories", "TinyStories-valid-excerpt.txt"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, b, m, tk.Encode(text, true)[:256], tol)
	})
}

func check(t *testing.T, b native.Backend, m *native.Model, tokens []int, tol Tolerance) {
	t.Helper()
	ev, err := b.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	compare(t, ev, m, tokens, tol, "logits")
}

func compare(t *testing.T, ev native.Evaluator, m *native.Model, tokens []int, tol Tolerance, what string) {
	t.Helper()
	got, err := ev.Logits(context.Background(), tokens)
	if err != nil {
		t.Fatal(err)
	}
	want := Reference(m, tokens)
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	var diff, scale float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	t.Logf("%s: max logit difference %.3g (largest logit %.3g)", what, diff, scale)
	if diff > tol.Logits*max(1, scale) {
		t.Errorf("%s: logits differ from the reference by %g (largest logit %g, tolerance %g relative)", what, diff, scale, tol.Logits)
	}
}

// referenceNLL sums -log p(tokens[t+1]) over the window.
func referenceNLL(logits []float32, tokens []int, vocab int) float64 {
	var sum float64
	for t := 0; t+1 < len(tokens); t++ {
		row := logits[t*vocab : (t+1)*vocab]
		maxVal := math.Inf(-1)
		for _, v := range row {
			maxVal = max(maxVal, float64(v))
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - maxVal)
		}
		sum -= float64(row[tokens[t+1]]) - maxVal - math.Log(z)
	}
	return sum
}

// nonUniform slices m by hand into a pruned shape: layer 0 keeps one of
// its two key/value groups, layer 1 keeps 40 MLP channels and gets biases,
// layer 2 loses attention entirely but keeps its compensation bias.
func nonUniform(m *native.Model) *native.Model {
	c := m.Config
	hd, D := c.HeadDim, c.Dim
	group := c.NumHeads / c.NumKVHeads
	l0 := &m.Layers[0]
	q := group * hd // the first group's query rows
	l0.NumHeads, l0.NumKVHeads = group, 1
	l0.Wq, l0.Wk, l0.Wv = l0.Wq[:q*D], l0.Wk[:hd*D], l0.Wv[:hd*D]
	wo := make([]float32, D*q)
	for r := 0; r < D; r++ {
		copy(wo[r*q:(r+1)*q], l0.Wo[r*c.NumHeads*hd:r*c.NumHeads*hd+q])
	}
	l0.Wo = wo

	l1 := &m.Layers[1]
	const keep = 40
	l1.HiddenDim = keep
	l1.Gate, l1.Up = l1.Gate[:keep*D], l1.Up[:keep*D]
	down := make([]float32, D*keep)
	for r := 0; r < D; r++ {
		copy(down[r*keep:(r+1)*keep], l1.Down[r*c.HiddenDim:r*c.HiddenDim+keep])
	}
	l1.Down = down
	l1.AttnBias, l1.MLPBias = filled(D, 0.03), filled(D, -0.04)

	l2 := &m.Layers[2]
	l2.NumHeads, l2.NumKVHeads = 0, 0
	l2.Wq, l2.Wk, l2.Wv, l2.Wo = nil, nil, nil, nil
	l2.AttnBias = filled(D, 0.01)
	return m
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v * float32(1+i%7)
	}
	return s
}
