package predictor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// untrained returns a predictor of arch for s with random weights: the
// time to score does not depend on the weights' values.
func untrained(b *testing.B, s Space, arch Arch) *Predictor {
	b.Helper()
	p, err := newPredictor(s, arch, Norm{InMean: []float64{0.5, 0.5, 0}, InStd: []float64{0.2, 0.2, 1}, RatioMean: 0.3, RatioStd: 0.2, OutMean: 3, OutStd: 1})
	if err != nil {
		b.Fatal(err)
	}
	p.net.init(rand.New(rand.NewPCG(1, 2)))
	return p
}

// BenchmarkScore times one policy's score, for both architectures and
// several depths.
func BenchmarkScore(b *testing.B) {
	for _, arch := range []Arch{CNNArch(1), CNNArch(3), MLPArch()} {
		for _, L := range []int{5, 16, 32} {
			b.Run(fmt.Sprintf("%s%d/L=%d", arch.Kind, arch.Kernel, L), func(b *testing.B) {
				s := llamaSpace(b, L)
				p := untrained(b, s, arch)
				pol, err := s.Uniform(0.4)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Score(pol); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkScoreBatch times a batch of 1,000 policies (L=32, the CNN).
func BenchmarkScoreBatch(b *testing.B) {
	s := llamaSpace(b, 32)
	p := untrained(b, s, DefaultTrainConfig().Arch)
	pols, err := s.SamplePolicies(1000, 0.05, 0.7, 1.5, 1)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, len(pols))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.ScoreBatch(pols, out); err != nil {
			b.Fatal(err)
		}
	}
}
