package native

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native/tokenizer"
)

func loadShared(t testing.TB, name, model, tok string) (*Model, tokenizer.Tokenizer) {
	t.Helper()
	dir := filepath.Join(ModelsDir(), name)
	m, err := LoadLlama2C(filepath.Join(dir, model))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Load(filepath.Join(dir, tok))
	if err != nil {
		t.Fatal(err)
	}
	return m, tk
}

func generateGreedy(t *testing.T, m *Model, tk tokenizer.Tokenizer, prompt string, steps int) string {
	t.Helper()
	s, err := NewSampler(0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if _, err := Generate(context.Background(), m, tk, prompt, steps, s, func(p string) { sb.WriteString(p) }); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// llama2.c's own test: stories260K, temperature 0, 200 steps from BOS.
func TestGreedyStories260KMatchesLlama2C(t *testing.T) {
	m, tk := loadShared(t, "stories260K", "stories260K.bin", "tok512.bin")
	want, err := os.ReadFile(filepath.Join(ModelsDir(), "..", "reference", "stories260K-greedy-200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := generateGreedy(t, m, tk, "", 200); got != string(want) {
		t.Errorf("greedy output differs from llama2.c's\n got: %q\nwant: %q", got, want)
	}
}

// The prefix was checked by reading it: fluent TinyStories English from a
// character-level model.
func TestGreedyBabyLlama(t *testing.T) {
	m, tk := loadShared(t, "babyllama-tok105", "model5000.bin", "tok105.model")
	const wantPrefix = "Once upon a time, there was a little girl named Lily."
	got := generateGreedy(t, m, tk, "Once upon a time", 120)
	if !strings.HasPrefix("Once upon a time"+got, wantPrefix) {
		t.Errorf("babyllama greedy continuation = %q, want it to start %q", got, strings.TrimPrefix(wantPrefix, "Once upon a time"))
	}
}

// Running a sequence at once (prefill) and one token at a time through the
// key/value cache must give the same logits.
func TestPrefillMatchesIncrementalDecoding(t *testing.T) {
	m := RandomModel(Config{Dim: 64, HiddenDim: 96, NumLayers: 3, NumHeads: 8, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 50, SeqLen: 32, RopeTheta: 10000, NormEps: 1e-5}, 7)
	tokens := []int{1, 5, 9, 13, 2, 44, 31, 7, 7, 0, 49}
	ctx := context.Background()
	full, err := NewState(m, len(tokens), 0).Forward(ctx, tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	full = append([]float32(nil), full...)
	s := NewState(m, 4, 0)
	// a 3-token prefill followed by single tokens
	got, err := s.Forward(ctx, tokens[:3], 0)
	if err != nil {
		t.Fatal(err)
	}
	rows := append([]float32(nil), got...)
	for p := 3; p < len(tokens); p++ {
		got, err := s.Forward(ctx, tokens[p:p+1], p)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, got...)
	}
	if d := maxAbsDiff(full, rows); d > 1e-5 {
		t.Errorf("prefill and incremental logits differ by %g", d)
	}
}

// The models' reported validation losses (stories260K 1.297 per tok512
// token, babyllama 0.7366 per character) come from llama2.c's own split:
// one story per sequence, BOS first. Measured the same way on the
// TinyStories excerpt, the engine must land near them; the text differs, so
// the bands allow for it (measured: 1.644 and 0.796).
func TestPerStoryLossNearReported(t *testing.T) {
	text, err := ReadText(filepath.Join(DataDir(), "tinystories", "TinyStories-valid-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, model, tok string
		reported, band   float64
	}{
		{"stories260K", "stories260K.bin", "tok512.bin", 1.297, 0.4},
		{"babyllama-tok105", "model5000.bin", "tok105.model", 0.7366, 0.1},
	} {
		m, tk := loadShared(t, c.name, c.model, c.tok)
		var sum float64
		var n int
		for _, story := range strings.Split(text, "\n") {
			ids := tk.Encode(strings.TrimSpace(story), true)
			ids = ids[:min(len(ids), m.SeqLen)]
			if len(ids) < 2 {
				continue
			}
			res, err := Perplexity(context.Background(), m, ids, EvalOptions{SeqLen: len(ids)})
			if err != nil {
				t.Fatal(err)
			}
			sum += res.NLL * float64(res.Tokens)
			n += res.Tokens
		}
		if nll := sum / float64(n); math.Abs(nll-c.reported) > c.band {
			t.Errorf("%s: per-story nll %.4f, reported validation loss %.4f", c.name, nll, c.reported)
		}
	}
}

// docs/usage.md's figure: stories260K on the excerpt as one text, seqlen 256.
func TestPerplexityStories260K(t *testing.T) {
	m, tk := loadShared(t, "stories260K", "stories260K.bin", "tok512.bin")
	text, err := ReadText(filepath.Join(DataDir(), "tinystories", "TinyStories-valid-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Perplexity(context.Background(), m, tk.Encode(text, true), EvalOptions{SeqLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	// Windows start mid-story without BOS, which costs a little over the
	// per-story figure of TestPerStoryLossNearReported.
	if res.NLL < 1.5 || res.NLL > 1.9 || res.Tokens != res.Windows*255 || res.SeqLen != 256 {
		t.Errorf("got %+v: want nll in [1.5, 1.9] over windows x 255 tokens", res)
	}
}

func TestPerplexityCancels(t *testing.T) {
	m := RandomModel(Config{Dim: 16, HiddenDim: 16, NumLayers: 2, NumHeads: 2, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 10, SeqLen: 8, RopeTheta: 10000, NormEps: 1e-5}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Perplexity(ctx, m, make([]int, 80), EvalOptions{Progress: func(done, total int) {
		calls++
		cancel()
	}})
	// 10 windows; the ones already running when cancel is called may finish
	if !errors.Is(err, context.Canceled) || calls > 2 {
		t.Errorf("err %v after %d windows, want context.Canceled after at most 2", err, calls)
	}
}

func TestPerplexityBadInput(t *testing.T) {
	m := RandomModel(Config{Dim: 16, HiddenDim: 16, NumLayers: 1, NumHeads: 2, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 10, SeqLen: 8, RopeTheta: 10000, NormEps: 1e-5}, 1)
	ctx := context.Background()
	if _, err := Perplexity(ctx, m, make([]int, 100), EvalOptions{SeqLen: 9}); err == nil || !strings.Contains(err.Error(), "context of 8") {
		t.Errorf("seqlen beyond the context: err = %v", err)
	}
	if _, err := Perplexity(ctx, m, make([]int, 7), EvalOptions{SeqLen: 8}); !errors.Is(err, ErrTooFewTokens) {
		t.Errorf("text shorter than a window: err = %v", err)
	}
	if _, err := Perplexity(ctx, m, []int{1, 2, 3, 10}, EvalOptions{SeqLen: 4}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("token outside the vocabulary: err = %v", err)
	}
}

// A uniform model (all logits equal) has perplexity equal to its vocabulary
// size: a value computed by hand.
func TestPerplexityOfUniformModel(t *testing.T) {
	m := RandomModel(Config{Dim: 16, HiddenDim: 16, NumLayers: 1, NumHeads: 2, NumKVHeads: 1, HeadDim: 8,
		VocabSize: 10, SeqLen: 8, RopeTheta: 10000, NormEps: 1e-5}, 1)
	clear(m.Output)
	res, err := Perplexity(context.Background(), m, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7}, EvalOptions{SeqLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Perplexity-10) > 1e-9 || res.Windows != 2 || res.Tokens != 14 {
		t.Errorf("got %+v, want perplexity 10 over 2 windows and 14 tokens", res)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
