package native

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Benchmarks of the matrix products and of whole forward passes. Built
// with -tags openblas (cgo, libopenblas-dev), every product is also timed
// with OpenBLAS, call for call alternately in the same loop, and reported
// as ref_GFLOP/s and the ratio x_openblas-CORE (engine time over OpenBLAS
// time, inverted: above 1 the engine is faster). For one-core figures:
//
//	OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell go test -tags openblas -run XXX -bench 'Sgemm|MatVec' -cpu 1 ./native/
//	OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX go test -tags openblas -run XXX -bench 'Sgemm|MatVec' -cpu 1 ./native/

// blasRef is the reference library of the benchmarks, nil without the
// openblas tag.
type blasRef struct {
	name  string
	sgemm func(out, x, w []float32, n, in, outDim int)
	sgemv func(out, x, w []float32, in, outDim int)
}

var reference *blasRef

// compare runs the engine's product (ours) and the reference's (ref)
// alternately, so that both see the same machine at the same moments, and
// reports both rates and their ratio.
func compare(b *testing.B, flops float64, ours, ref func()) {
	var tOurs, tRef time.Duration
	for b.Loop() {
		t0 := time.Now()
		ref()
		t1 := time.Now()
		ours()
		tOurs += time.Since(t1)
		tRef += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(flops*n/tOurs.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops*n/tRef.Seconds()/1e9, "ref_GFLOP/s")
	b.ReportMetric(tRef.Seconds()/tOurs.Seconds(), "x_"+reference.name)
}

// BenchmarkSgemm times out = x · wᵀ for x (M, K) and w (N, K), named
// MxNxK/implementation, for every implementation this machine runs, on
// GOMAXPROCS workers (-cpu 1 for one core); with the openblas tag,
// alternately with cblas_sgemm.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{512, 512, 512}, {2048, 512, 512}, {4096, 4096, 4096}} {
		n, outDim, in := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, out := randSlice(rng, n*in), randSlice(rng, outDim*in), make([]float32, n*outDim)
		flops := 2 * float64(n) * float64(outDim) * float64(in)
		for _, g := range gemms() {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", n, outDim, in, g.name()), func(b *testing.B) {
				defer func(old gemm) { defaultGemm = old }(defaultGemm)
				defaultGemm = g
				tm := newTeam()
				defer tm.close()
				ours := func() { matmul(tm, runtime.GOMAXPROCS(0), out, x, w, n, in, outDim) }
				if reference != nil {
					compare(b, flops, ours, func() { reference.sgemm(out, x, w, n, in, outDim) })
					return
				}
				for b.Loop() {
					ours()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMatVec times the product of one token, the shape of decoding,
// for a weight of 512 KiB, in the L2 cache, and Llama 7B's attention and
// MLP weights (outDim x in): read as stored
// (a State.Forward of one token), and from the panels Generate packs;
// with the openblas tag, alternately with cblas_sgemv.
func BenchmarkMatVec(b *testing.B) {
	for _, s := range [][2]int{{512, 256}, {4096, 4096}, {11008, 4096}} {
		outDim, in := s[0], s[1]
		rng := rand.New(rand.NewPCG(2, 2))
		x, w, out := randSlice(rng, in), randSlice(rng, outDim*in), make([]float32, outDim)
		flops := 2 * float64(outDim) * float64(in)
		decodingLayouts(b, w, outDim, in, func(b *testing.B, s *State, pm *panelMatrix) {
			ours := func() { s.linear(out, x, w, pm, 1, in, outDim) }
			if reference != nil {
				compare(b, flops, ours, func() { reference.sgemv(out, x, w, in, outDim) })
				return
			}
			for b.Loop() {
				ours()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatVecBandwidth times decoding's memory-bound products, Llama
// 7B's MLP weights (outDim x in, 180 MB, far more than the caches) times
// one token on GOMAXPROCS workers, read as stored and from the panels
// Generate packs, each alternately with a plain read of the very bytes
// the product reads (streamRead: eight loads in flight, as many as the
// panel kernel has), split the same way, so that both see the same
// machine and the same memory. It reports both rates in GB/s and
// x_stream, the product's fraction of the read's bandwidth.
func BenchmarkMatVecBandwidth(b *testing.B) {
	for _, s := range [][2]int{{11008, 4096}, {4096, 11008}} {
		outDim, in := s[0], s[1]
		rng := rand.New(rand.NewPCG(3, 3))
		x, w, out := randSlice(rng, in), randSlice(rng, outDim*in), make([]float32, outDim)
		decodingLayouts(b, w, outDim, in, func(b *testing.B, s *State, pm *panelMatrix) {
			read := &streamTask{buf: w, max: make([]float32, s.Workers)}
			if pm != nil {
				read.buf = pm.data
			}
			var tProduct, tRead time.Duration
			for b.Loop() {
				t0 := time.Now()
				s.team.run(s.Workers, read)
				t1 := time.Now()
				s.linear(out, x, w, pm, 1, in, outDim)
				tProduct += time.Since(t1)
				tRead += t1.Sub(t0)
			}
			n := float64(b.N)
			product := 4 * float64(len(read.buf)) * n / tProduct.Seconds() / 1e9
			stream := 4 * float64(len(read.buf)) * n / tRead.Seconds() / 1e9
			b.ReportMetric(product, "GB/s")
			b.ReportMetric(stream, "stream_GB/s")
			b.ReportMetric(product/stream, "x_stream")
		})
	}
}

// decodingLayouts runs f as a sub-benchmark named outDimxin/layout for
// each way decoding reads the weight w: as stored (pm nil, named after
// the gemm) and, where this machine has the kernels, from packed panels.
// s is a State for its workers and team.
func decodingLayouts(b *testing.B, w []float32, outDim, in int, f func(b *testing.B, s *State, pm *panelMatrix)) {
	b.Run(fmt.Sprintf("%dx%d/%s", outDim, in, defaultGemm.name()), func(b *testing.B) {
		f(b, benchState(), nil)
	})
	if packPanel != nil {
		b.Run(fmt.Sprintf("%dx%d/panels", outDim, in), func(b *testing.B) {
			f(b, benchState(), packPanels(w, outDim, in))
		})
	}
}

// streamTask reads buf, each worker its share, as fast as loads go.
type streamTask struct {
	buf []float32
	max []float32 // each worker's result, so that the reads are not dead code
}

func (s *streamTask) run(w, workers int) {
	lo, hi := split(len(s.buf), 1024, w, workers)
	s.max[w] = streamRead(s.buf[lo:hi])
}

// forwardFLOPs counts the multiply-adds (times 2) of one forward pass of T
// tokens from position 0: the products and the attention.
func forwardFLOPs(m *Model, T int) float64 {
	c := m.Config
	var f float64
	for _, l := range m.Layers {
		q, kv := l.NumHeads*c.HeadDim, l.NumKVHeads*c.HeadDim
		f += 2 * float64(T) * float64(c.Dim) * float64(2*q+2*kv+3*l.HiddenDim)
		f += 4 * float64(l.NumHeads*c.HeadDim) * float64(T*(T+1)/2) // q·kᵀ and att·v
	}
	return f + 2*float64(T)*float64(c.Dim)*float64(c.VocabSize)
}

// BenchmarkForward times whole forward passes of one window, as
// perplexity runs them, on GOMAXPROCS workers: the two checkpoints at
// seqlen 128, and a random model with Llama 7B's layer shapes cut to
// 2048 wide (dim 2048, hidden 5632, 16 heads, 4 layers, vocab 32000) at
// seqlen 256. For the last, each pass alternates with a 2048x512x512
// sgemm on the same workers, and x_sgemm is the forward pass's rate over
// the sgemm's.
func BenchmarkForward(b *testing.B) {
	run := func(b *testing.B, m *Model, T int, withSgemm bool) {
		s := NewState(m, T, T)
		tokens := make([]int, T)
		for i := range tokens {
			tokens[i] = (i*7 + 3) % m.VocabSize
		}
		ctx := context.Background()
		const gn, gout, gin = 2048, 512, 512
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, out := randSlice(rng, gn*gin), randSlice(rng, gout*gin), make([]float32, gn*gout)
		var tForward, tSgemm time.Duration
		for b.Loop() {
			t0 := time.Now()
			if _, err := s.Forward(ctx, tokens, 0); err != nil {
				b.Fatal(err)
			}
			tForward += time.Since(t0)
			if withSgemm {
				t1 := time.Now()
				matmul(s.team, s.Workers, out, x, w, gn, gin, gout)
				tSgemm += time.Since(t1)
			}
		}
		n := float64(b.N)
		rate := forwardFLOPs(m, T) * n / tForward.Seconds() / 1e9
		b.ReportMetric(float64(T)*n/tForward.Seconds(), "tokens/s")
		b.ReportMetric(rate, "GFLOP/s")
		if withSgemm {
			sgemm := 2 * gn * gout * gin * n / tSgemm.Seconds() / 1e9
			b.ReportMetric(sgemm, "sgemm_GFLOP/s")
			b.ReportMetric(rate/sgemm, "x_sgemm")
		}
	}
	for _, c := range benchCheckpoints {
		b.Run(c.name, func(b *testing.B) {
			run(b, loadBenchCheckpoint(b, c.name, c.file), 128, false)
		})
	}
	b.Run("llama-2048x4", func(b *testing.B) {
		m := RandomModel(Config{Dim: 2048, HiddenDim: 5632, NumLayers: 4, NumHeads: 16, VocabSize: 32000, SeqLen: 256}, 1)
		run(b, m, 256, true)
	})
}

// BenchmarkLogSoftmax times the log-likelihood of one token, as perplexity
// computes it for every predicted token, over a vocabulary of the shared
// models' size and of Llama 2's, with the vector exp and with math.Exp.
func BenchmarkLogSoftmax(b *testing.B) {
	for _, vocab := range []int{512, 32000} {
		logits := randSlice(rand.New(rand.NewPCG(4, 4)), vocab)
		for _, vec := range []bool{true, false} {
			b.Run(fmt.Sprintf("vocab=%d/vec=%v", vocab, vec), func(b *testing.B) {
				defer func(old bool) { vecOps = old }(vecOps)
				vecOps = vec && vecOps
				for b.Loop() {
					logSoftmaxAt(logits, 7)
				}
			})
		}
	}
}

// benchState returns a State of a tiny model, for the team and workers
// that benchmarks of single products need.
func benchState() *State {
	return NewState(RandomModel(Config{Dim: 8, HiddenDim: 8, NumLayers: 1, NumHeads: 1, HeadDim: 8, VocabSize: 8, SeqLen: 8}, 1), 1, 1)
}

// BenchmarkPackPanels times what Generate pays once per call to decode
// from panels: packing Llama 7B's MLP weight (11008 x 4096), alternately
// with one product of a token by the packed weight, and reports the
// packing in products (x_product): the tokens after which it has paid
// for itself is about that over the panels' gain per token.
func BenchmarkPackPanels(b *testing.B) {
	if packPanel == nil {
		b.Skip("no panel kernels on this machine")
	}
	const outDim, in = 11008, 4096
	rng := rand.New(rand.NewPCG(4, 4))
	x, w, out := randSlice(rng, in), randSlice(rng, outDim*in), make([]float32, outDim)
	s := benchState()
	var tPack, tProduct time.Duration
	for b.Loop() {
		t0 := time.Now()
		pm := packPanels(w, outDim, in)
		t1 := time.Now()
		s.linear(out, x, w, pm, 1, in, outDim)
		tProduct += time.Since(t1)
		tPack += t1.Sub(t0)
	}
	b.ReportMetric(tPack.Seconds()/tProduct.Seconds(), "x_product")
}
