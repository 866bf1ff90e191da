package native

import "runtime"

// This file is the one place where matrix products happen; most of the
// engine's time is spent in them. Two shapes cover the whole forward pass:
//
//   - nt, out = x · wᵀ: activations (tokens, in) times an nn.Linear weight
//     (out, in), and attention scores q · kᵀ;
//   - nn, out = a · b: attention weights (tokens, positions) times the
//     values (positions, headDim).
//
// A gemm implements both on one goroutine. The portable one is plain Go
// (gemmGo, below); matmul_amd64.go adds AVX2 and AVX-512 kernels chosen at
// run time. Every implementation sums each output along k sequentially, so
// a token's result does not depend on how many tokens share the product.

// MatMul computes out = x · wᵀ: x is (n, in) activations, one row per token,
// w is (outDim, in) in nn.Linear layout, out is (n, outDim). Columns of out
// are split across all cores when the product is large enough to pay for it.
//
// The plain loop it implements:
//
//	for t := 0; t < n; t++ {
//		for o := 0; o < outDim; o++ {
//			out[t*outDim+o] = dot(x[t*in:(t+1)*in], w[o*in:(o+1)*in])
//		}
//	}
//
// with dot summing in order; the SIMD kernels fuse each multiply-add.
func MatMul(out, x, w []float32, n, in, outDim int) {
	tm := newTeam()
	defer tm.close()
	matmul(tm, runtime.GOMAXPROCS(0), out, x, w, n, in, outDim)
}

// matmul is MatMul on at most workers goroutines of tm.
func matmul(tm *team, workers int, out, x, w []float32, n, in, outDim int) {
	if len(x) < n*in || len(w) < outDim*in || len(out) < n*outDim {
		panic("native: MatMul slices shorter than their shapes")
	}
	g := defaultGemm
	if n*in*outDim < minParallelWork(n) {
		workers = 1
	}
	workers = max(1, min(workers, (outDim+g.align()-1)/g.align()))
	t := &tm.linear
	*t = linearTask{g: g, sc: tm.scratch(workers), out: out, x: x, w: w, n: n, in: in, outDim: outDim}
	tm.run(workers, t)
	*t = linearTask{} // drop the references, so that the team keeps no model alive
}

// linearTask is one matmul call, split by output columns across workers.
type linearTask struct {
	g             gemm
	sc            []*scratch
	out, x, w     []float32
	n, in, outDim int
}

func (t *linearTask) run(w, workers int) {
	lo, hi := split(t.outDim, t.g.align(), w, workers)
	if lo < hi {
		t.g.nt(t.sc[w], t.out, t.outDim, t.x, t.in, t.w, t.in, t.n, t.in, lo, hi)
	}
}

// split returns worker w's share [lo, hi) of n items cut into as equal runs
// as possible, each starting at a multiple of align.
func split(n, align, w, workers int) (lo, hi int) {
	blocks := (n + align - 1) / align
	lo = blocks * w / workers * align
	hi = min(blocks*(w+1)/workers*align, n)
	return min(lo, n), hi
}

// A gemm computes the two product shapes on the calling goroutine, using
// sc for its packed panels. Strides (ld*) are in elements.
type gemm interface {
	// nt computes the columns [lo, hi) of out = x · wᵀ for n rows:
	// out[t*ldc+j] = Σ_k x[t*ldx+k]·w[j*ldw+k], k < in.
	nt(sc *scratch, out []float32, ldc int, x []float32, ldx int, w []float32, ldw int, n, in, lo, hi int)
	// nn computes out = a · b for n rows and m columns:
	// out[t*ldc+j] = Σ_p a[t*lda+p]·b[p*ldb+j], p < k.
	nn(sc *scratch, out []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k, m int)
	// align is the column granularity worth giving one worker.
	align() int
	name() string
}

// gemmGo is the portable implementation: the plain loops, with four tokens
// sharing each load of a weight row.
type gemmGo struct{}

func (gemmGo) name() string { return "go" }
func (gemmGo) align() int   { return 8 }

func (gemmGo) nt(_ *scratch, out []float32, ldc int, x []float32, ldx int, w []float32, ldw int, n, in, lo, hi int) {
	t := 0
	for ; t+4 <= n; t += 4 {
		x0, x1, x2, x3 := x[t*ldx:t*ldx+in], x[(t+1)*ldx:(t+1)*ldx+in], x[(t+2)*ldx:(t+2)*ldx+in], x[(t+3)*ldx:(t+3)*ldx+in]
		for o := lo; o < hi; o++ {
			wr := w[o*ldw : o*ldw+in]
			var s0, s1, s2, s3 float32
			for i, wv := range wr {
				s0 += x0[i] * wv
				s1 += x1[i] * wv
				s2 += x2[i] * wv
				s3 += x3[i] * wv
			}
			out[t*ldc+o] = s0
			out[(t+1)*ldc+o] = s1
			out[(t+2)*ldc+o] = s2
			out[(t+3)*ldc+o] = s3
		}
	}
	for ; t < n; t++ {
		xr := x[t*ldx : t*ldx+in]
		for o := lo; o < hi; o++ {
			out[t*ldc+o] = dot(xr, w[o*ldw:])
		}
	}
}

func (gemmGo) nn(_ *scratch, out []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k, m int) {
	for t := 0; t < n; t++ {
		o := out[t*ldc : t*ldc+m]
		clear(o)
		for p, av := range a[t*lda : t*lda+k] {
			for j, bv := range b[p*ldb : p*ldb+m] {
				o[j] += av * bv
			}
		}
	}
}

// dot returns the inner product of a and b[:len(a)], summed in order so that
// a token's result does not depend on how many tokens share the product.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// scratch is one worker's private buffers: packed panels for a gemm and
// the attention scores of a block of queries.
type scratch struct {
	panel  []float32 // (kBlock, maxNR) a packed panel of w or b
	tile   []float32 // (maxMR, maxNR) an output tile at a ragged edge
	rows   []float32 // (tokens, kBlock) a k block of far-apart rows, copied close
	scores []float32 // (queryBlock, context) attention scores, sized by the caller
}

// Sizes of the packed blocks, shared by every gemm: a panel of kBlock rows
// of maxNR floats (32 KiB) stays in the L1 cache while rows of x stream past.
const (
	kBlock = 256
	maxNR  = 32
	maxMR  = 12
)

// l2Bytes is the L2 cache of one core that the matrix-vector kernels assume: Zen 4's and
// Skylake-SP's (later Intel cores have up to 2 MiB, older AMD ones 512
// KiB; a wrong guess costs speed, never bits).
const l2Bytes = 1 << 20

func newScratch() *scratch {
	return &scratch{panel: make([]float32, kBlock*maxNR), tile: make([]float32, maxMR*maxNR)}
}
