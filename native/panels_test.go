package native

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A token multiplied by packed panels gets the bits the gemm gives it in a
// batch, for every panel width (ragged last panels of 1 to 63 rows among
// them), depths with and without a remainder of the kernels' unrolling,
// and work split across workers.
func TestPanelsMatchBatch(t *testing.T) {
	if packPanel == nil {
		t.Skip("no panel kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	const n = 7
	s := benchState()
	for _, in := range []int{1, 2, 3, 4, 5, 8, 13, 64, 301} {
		for _, out := range []int{1, 7, 8, 9, 40, 63, 64, 65, 128, 200, 333} {
			x, w := randSlice(rng, n*in), randSlice(rng, out*in)
			batch := make([]float32, n*out)
			defaultGemm.nt(newScratch(), batch, out, x, in, w, in, n, in, 0, out)
			pm := packPanels(w, out, in)
			for _, workers := range []int{1, 2, 3} {
				s.Workers = workers
				one := randSlice(rng, out)
				s.linear(one, x, w, pm, 1, in, out)
				sameBits(t, fmt.Sprintf("in=%d out=%d workers=%d", in, out, workers), one, batch[:out])
			}
		}
	}
}

// Decoding from the packed weights gives, position by position, the
// logits a prefill gives, over layers of different widths (a sliced
// model), grouped-query attention, masked heads and channels, and a
// vocabulary that fills no whole panel.
func TestPanelsMatchPrefill(t *testing.T) {
	if packPanel == nil {
		t.Skip("no panel kernels on this machine")
	}
	m := RandomModel(Config{Dim: 72, HiddenDim: 200, NumLayers: 3, NumHeads: 6, NumKVHeads: 3, HeadDim: 12,
		VocabSize: 101, SeqLen: 32, RopeTheta: 10000, NormEps: 1e-5}, 23)
	keepChannels(m, 1, 77)
	m.Layers[2].HeadMask = []bool{true, false, true, true, true, false}
	m.Layers[0].ChannelMask = make([]bool, m.Layers[0].HiddenDim)
	for i := range m.Layers[0].ChannelMask {
		m.Layers[0].ChannelMask[i] = i%3 != 0
	}
	tokens := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 58, 97}
	ctx := context.Background()
	full, err := NewState(m, len(tokens), 0).Forward(ctx, tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	full = slices.Clone(full)
	s := NewState(m, 1, 0)
	s.panels = packForDecoding(ctx, m, 1000, 2)
	if s.panels == nil {
		t.Fatal("a model of a few hundred KB was not packed")
	}
	for p, tok := range tokens {
		got, err := s.Forward(ctx, []int{tok}, p)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, fmt.Sprintf("position %d", p), got, full[p*m.VocabSize:(p+1)*m.VocabSize])
	}
}

// keepChannels slices layer li's MLP to its first h channels, as pruning
// does.
func keepChannels(m *Model, li, h int) {
	l := &m.Layers[li]
	down := make([]float32, m.Dim*h)
	for r := 0; r < m.Dim; r++ {
		copy(down[r*h:(r+1)*h], l.Down[r*l.HiddenDim:])
	}
	l.Gate, l.Up, l.Down, l.HiddenDim = l.Gate[:h*m.Dim], l.Up[:h*m.Dim], down, h
}

// The packed copy lives for one Generate call: weights edited, or sliced,
// between two calls are what the second decodes with, token for token as
// a decoding loop that reads the weights as stored.
func TestGenerateSeesEditsBetweenCalls(t *testing.T) {
	m := RandomModel(Config{Dim: 64, HiddenDim: 160, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16,
		VocabSize: 90, SeqLen: 64, RopeTheta: 10000, NormEps: 1e-5}, 29)
	tok := fixedTokenizer{vocab: m.VocabSize}
	greedy, err := NewSampler(0, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const steps = 50
	if packPanel != nil && packForDecoding(ctx, m, steps-1, 1) == nil {
		t.Fatal("Generate would not pack this model: the test would check nothing new")
	}
	before, err := Generate(ctx, m, tok, "", steps, greedy, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Output {
		m.Output[i] = -m.Output[i] // the least likely token becomes the most
	}
	keepChannels(m, 0, 100)
	after, err := Generate(ctx, m, tok, "", steps, greedy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(before, after) {
		t.Fatal("the edits changed no token: the test would not see stale weights")
	}
	// the same loop on the edited model, with nothing packed
	s := NewState(m, 1, steps)
	next, want := 1, []int(nil)
	for pos := 0; pos < steps; pos++ {
		logits, err := s.Forward(ctx, []int{next}, pos)
		if err != nil {
			t.Fatal(err)
		}
		next = greedy.Sample(logits)
		want = append(want, next)
	}
	if !slices.Equal(after, want) {
		t.Fatalf("after the edits Generate gave %v, reading the weights as stored gives %v", after, want)
	}
}

// TimeDecoding refuses what it cannot decode, with the reason.
func TestTimeDecodingRefuses(t *testing.T) {
	m := RandomModel(Config{Dim: 16, HiddenDim: 24, NumLayers: 1, NumHeads: 2, HeadDim: 8, VocabSize: 20, SeqLen: 8}, 31)
	ctx := context.Background()
	if _, err := TimeDecoding(ctx, m, nil); err == nil {
		t.Error("no tokens: no error")
	}
	if _, err := TimeDecoding(ctx, m, make([]int, 9)); err == nil || !strings.Contains(err.Error(), "context") {
		t.Errorf("9 tokens for a context of 8: %v", err)
	}
	if _, err := TimeDecoding(ctx, m, []int{1, 25}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("a token outside the vocabulary: %v", err)
	}
	if d, err := TimeDecoding(ctx, m, []int{1, 2, 3}); err != nil || d <= 0 {
		t.Errorf("3 tokens: %v, %v", d, err)
	}
}

// Weights larger than the caches are packed only for a long generation,
// small ones for a short one too, and none for a token or two.
func TestPackingPays(t *testing.T) {
	if packPanel == nil {
		t.Skip("no panel kernels on this machine")
	}
	small := RandomModel(Config{Dim: 64, HiddenDim: 160, NumLayers: 2, NumHeads: 4, HeadDim: 16, VocabSize: 90, SeqLen: 8}, 37)
	large := RandomModel(Config{Dim: 1024, HiddenDim: 2816, NumLayers: 1, NumHeads: 8, HeadDim: 128, VocabSize: 2000, SeqLen: 8}, 41)
	for _, c := range []struct {
		name   string
		m      *Model
		tokens int
		packed bool
	}{
		{"small, 2 tokens", small, 2, false},
		{"small, 40 tokens", small, 40, true},
		{"large, 100 tokens", large, 100, false},
		{"large, 300 tokens", large, 300, true},
	} {
		if got := packForDecoding(context.Background(), c.m, c.tokens, 2) != nil; got != c.packed {
			t.Errorf("%s: packed %v, want %v", c.name, got, c.packed)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if packForDecoding(ctx, large, 300, 2) != nil {
		t.Error("packed after an interrupt")
	}
}
