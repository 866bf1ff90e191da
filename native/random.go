package native

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// RandomModel returns a model with the sizes of c (every layer unpruned)
// and weights drawn from a normal distribution fixed by seed, for tests and
// benchmarks. Zero fields of c that have an obvious default get it:
// NumKVHeads = NumHeads, HeadDim = Dim/NumHeads, RopeTheta = 10000,
// NormEps = 1e-5. Output is its own tensor unless c.SharedClassifier.
//
// Every matrix, the embedding and the classifier are drawn with standard
// deviation 1/√fan_in (fan_in = Dim for the embedding), which is Llama's
// 0.02 at dim 2048-4096 and keeps activations and logits of order one in tiny
// test models, so that a wrong permutation or a swapped tensor changes the
// logits visibly. RMSNorm weights are 1 + N(0, 0.1²), so that mixing up two
// norms changes the output too. Biases stay nil.
//
// The draw is split into fixed chunks, each with its own generator seeded by
// (seed, chunk), and filled on all cores: the result depends only on c and
// seed. RandomModel panics if c cannot describe a model (a programmer error
// in a test).
func RandomModel(c Config, seed uint64) *Model {
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if c.HeadDim == 0 && c.NumHeads > 0 {
		c.HeadDim = c.Dim / c.NumHeads
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.NumLayers < 0 || c.Dim < 0 || c.HiddenDim < 0 || c.VocabSize < 0 {
		panic(fmt.Sprintf("native.RandomModel: negative size in config %+v", c))
	}

	var fills []randomFill
	matrix := func(rows, cols int) []float32 {
		s := make([]float32, rows*cols)
		fills = append(fills, randomFill{s, 0, float32(1 / math.Sqrt(float64(max(cols, 1))))})
		return s
	}
	norm := func() []float32 {
		s := make([]float32, c.Dim)
		fills = append(fills, randomFill{s, 1, 0.1})
		return s
	}

	m := &Model{Config: c, Layers: make([]Layer, c.NumLayers)}
	m.Embedding = matrix(c.VocabSize, c.Dim)
	q, kv := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	for i := range m.Layers {
		m.Layers[i] = Layer{
			NumHeads: c.NumHeads, NumKVHeads: c.NumKVHeads, HiddenDim: c.HiddenDim,
			AttnNorm: norm(),
			Wq:       matrix(q, c.Dim), Wk: matrix(kv, c.Dim), Wv: matrix(kv, c.Dim), Wo: matrix(c.Dim, q),
			MLPNorm: norm(),
			Gate:    matrix(c.HiddenDim, c.Dim), Up: matrix(c.HiddenDim, c.Dim), Down: matrix(c.Dim, c.HiddenDim),
		}
	}
	m.FinalNorm = norm()
	if c.SharedClassifier {
		m.Output = m.Embedding
	} else {
		m.Output = matrix(c.VocabSize, c.Dim)
	}
	if err := m.Validate(); err != nil {
		panic(fmt.Sprintf("native.RandomModel: config %+v: %v", c, err))
	}
	fillRandom(fills, seed)
	return m
}

// randomFill asks for s[i] = mean + std·N(0, 1).
type randomFill struct {
	s         []float32
	mean, std float32
}

// randomChunk is the number of values drawn from one generator.
const randomChunk = 1 << 16

// fillRandom performs fills on all cores. Chunk k of the concatenation of
// all fills is drawn from PCG(seed, k), whatever the number of cores.
func fillRandom(fills []randomFill, seed uint64) {
	type chunk struct {
		f      *randomFill
		lo, hi int
	}
	var chunks []chunk
	for i := range fills {
		f := &fills[i]
		for lo := 0; lo < len(f.s); lo += randomChunk {
			chunks = append(chunks, chunk{f, lo, min(lo+randomChunk, len(f.s))})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(chunks), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(chunks) {
					return
				}
				ch := chunks[k]
				rng := rand.New(rand.NewPCG(seed, uint64(k)*0x9e3779b97f4a7c15+1))
				s, mean, std := ch.f.s[ch.lo:ch.hi], ch.f.mean, ch.f.std
				for i := range s {
					s[i] = mean + std*float32(rng.NormFloat64())
				}
			}
		}()
	}
	wg.Wait()
}
