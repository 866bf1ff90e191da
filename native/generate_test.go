package native

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Nucleus sampling sorts only the tokens that can be in the nucleus; it
// must draw what sorting the whole vocabulary draws, seed for seed.
func TestTopPMatchesFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, vocab := range []int{1, 2, 5, 512, 32000} {
		for _, topP := range []float64{0.01, 0.5, 0.9, 0.99} {
			for _, temp := range []float64{0.3, 1, 3} {
				logits := randSlice(rng, vocab)
				if vocab > 4 {
					logits[3] = logits[4] // a tie
				}
				fast, err := NewSampler(temp, topP, 7)
				if err != nil {
					t.Fatal(err)
				}
				slow, _ := NewSampler(temp, topP, 7)
				for range 5 {
					if got, want := fast.Sample(logits), sampleFullSort(slow, logits); got != want {
						t.Fatalf("vocab %d top-p %g temperature %g: drew %d, the full sort draws %d", vocab, topP, temp, got, want)
					}
				}
			}
		}
	}
}

// sampleFullSort is Sample's nucleus by the definition: every token
// sorted, most likely first, equal ones by id.
func sampleFullSort(s *Sampler, logits []float32) int {
	probs := s.softmax(logits)
	r := s.rng.Float64()
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	return drawNucleus(probs, order, s.TopP, r)
}
