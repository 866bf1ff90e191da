package prune

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/tokenizer"
)

// smallConfig is a GQA model with 4 layers, 4 KV groups of 2 query heads
// and 24 MLP channels.
func smallConfig() native.Config {
	return native.Config{Dim: 32, HiddenDim: 24, NumLayers: 4, NumHeads: 8, NumKVHeads: 4, VocabSize: 40, SeqLen: 64}
}

func smallModel(seed uint64) *native.Model { return native.RandomModel(smallConfig(), seed) }

// randomTokens are fixed pseudo-random ids below vocab.
func randomTokens(n, vocab int, seed int) []int {
	ids := make([]int, n)
	x := uint32(seed*2654435761 + 1)
	for i := range ids {
		x = x*1664525 + 1013904223
		ids[i] = int(x>>8) % vocab
	}
	return ids
}

func calibrate(t testing.TB, m *native.Model, tokens []int) *Stats {
	t.Helper()
	st, err := Calibrate(context.Background(), m, tokens, CalibOptions{SeqLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func logits(t testing.TB, m *native.Model, tokens []int) []float32 {
	t.Helper()
	out, err := native.NewState(m, len(tokens), len(tokens)).Forward(context.Background(), tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out...)
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// loadTiny loads one of the shared tiny models and its tokenizer.
func loadTiny(t testing.TB, name string) (*native.Model, tokenizer.Tokenizer) {
	t.Helper()
	path, tokPath, err := native.ResolveModel(name)
	if err != nil {
		t.Fatalf("shared model %s: %v", name, err)
	}
	m, err := native.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Load(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	return m, tk
}

// tinyStories returns the TinyStories excerpt tokenized once with BOS.
func tinyStories(t testing.TB, tk tokenizer.Tokenizer) []int {
	t.Helper()
	text, err := native.ReadText(filepath.Join(native.DataDir(), "tinystories", "TinyStories-valid-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return tk.Encode(text, true)
}

func randomModelOf(c native.Config) *native.Model { return native.RandomModel(c, 11) }
