package native

import (
	"runtime"
	"sync"
)

// This file is the one place where matrix products happen; most of the
// engine's time is spent in MatMul.

// MatMul computes out = x · wᵀ: x is (n, in) activations, one row per token,
// w is (outDim, in) in nn.Linear layout, out is (n, outDim). Rows of w are
// split across all cores when the product is large enough to pay for it.
//
// The plain loop it implements:
//
//	for t := 0; t < n; t++ {
//		for o := 0; o < outDim; o++ {
//			out[t*outDim+o] = dot(x[t*in:(t+1)*in], w[o*in:(o+1)*in])
//		}
//	}
func MatMul(out, x, w []float32, n, in, outDim int) {
	matmul(runtime.GOMAXPROCS(0), out, x, w, n, in, outDim)
}

// matmul is MatMul on at most workers goroutines.
func matmul(workers int, out, x, w []float32, n, in, outDim int) {
	if len(x) < n*in || len(w) < outDim*in || len(out) < n*outDim {
		panic("native: MatMul slices shorter than their shapes")
	}
	parallelFor(workers, outDim, n*in, func(lo, hi int) {
		matmulRows(out, x, w, n, in, outDim, lo, hi)
	})
}

// matmulRows computes the columns [lo, hi) of out. Four tokens share each
// load of a weight row, which keeps w streaming from cache once per
// four tokens instead of once per token.
func matmulRows(out, x, w []float32, n, in, outDim, lo, hi int) {
	t := 0
	for ; t+4 <= n; t += 4 {
		x0, x1, x2, x3 := x[t*in:(t+1)*in], x[(t+1)*in:(t+2)*in], x[(t+2)*in:(t+3)*in], x[(t+3)*in:(t+4)*in]
		for o := lo; o < hi; o++ {
			wr := w[o*in : (o+1)*in]
			var s0, s1, s2, s3 float32
			for i, wv := range wr {
				s0 += x0[i] * wv
				s1 += x1[i] * wv
				s2 += x2[i] * wv
				s3 += x3[i] * wv
			}
			out[t*outDim+o] = s0
			out[(t+1)*outDim+o] = s1
			out[(t+2)*outDim+o] = s2
			out[(t+3)*outDim+o] = s3
		}
	}
	for ; t < n; t++ {
		xr := x[t*in : (t+1)*in]
		for o := lo; o < hi; o++ {
			out[t*outDim+o] = dot(xr, w[o*in:(o+1)*in])
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

// minParallelWork is the number of multiply-adds below which splitting work
// across goroutines costs more than it saves.
const minParallelWork = 1 << 15

// parallelFor splits [0, n) into one contiguous chunk for each of at most
// workers goroutines and runs fn on each; costPerItem estimates the work of
// one item so that small loops run on the calling goroutine.
func parallelFor(workers, n, costPerItem int, fn func(lo, hi int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*costPerItem < minParallelWork {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
