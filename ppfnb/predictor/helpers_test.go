package predictor

import "testing"

// storiesSpace is stories260K's space: 5 layers of 4 key/value groups (2
// query heads each, head width 8) and 172 channels, dim 64.
func storiesSpace(t testing.TB) Space {
	t.Helper()
	s, err := NewLlamaSpace("stories260K", LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// llamaSpace is a Llama-shaped space of L layers, scaled down: dim 256,
// 32 query heads over 8 key/value heads, 688 channels.
func llamaSpace(t testing.TB, L int) Space {
	t.Helper()
	s, err := NewLlamaSpace("llama-like", LlamaDims{Layers: L, Dim: 256, Heads: 32, KVHeads: 8, Hidden: 688}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// synthData returns n synthetic records of s with ratios in [0.05, 0.7].
func synthData(t testing.TB, s Space, n int, seed uint64) (*Synthetic, Dataset) {
	t.Helper()
	y, err := NewSynthetic(s, 7)
	if err != nil {
		t.Fatal(err)
	}
	d, err := y.Dataset(n, 0.05, 0.7, 1.5, seed)
	if err != nil {
		t.Fatal(err)
	}
	return y, d
}
