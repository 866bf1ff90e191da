//go:build openblas

package openblas

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
// char* openblas_get_corename(void);
import "C"

import "unsafe"

// This file exists only under the openblas build tag: the benchmarks'
// reference, never the engine's code path. It needs cgo and Debian's
// libopenblas-dev.

// SgemmNT computes out = x · wᵀ with cblas_sgemm, the shape of
// MatMul.
func SgemmNT(out, x, w []float32, n, in, outDim int) {
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans, C.blasint(n), C.blasint(outDim), C.blasint(in),
		1, (*C.float)(unsafe.Pointer(&x[0])), C.blasint(in), (*C.float)(unsafe.Pointer(&w[0])), C.blasint(in),
		0, (*C.float)(unsafe.Pointer(&out[0])), C.blasint(outDim))
}

// Sgemv computes out = w · x with cblas_sgemv: MatMul of one row.
func Sgemv(out, x, w []float32, in, outDim int) {
	C.cblas_sgemv(C.CblasRowMajor, C.CblasNoTrans, C.blasint(outDim), C.blasint(in),
		1, (*C.float)(unsafe.Pointer(&w[0])), C.blasint(in), (*C.float)(unsafe.Pointer(&x[0])), 1,
		0, (*C.float)(unsafe.Pointer(&out[0])), 1)
}

// Core names the kernel set OpenBLAS chose (OPENBLAS_CORETYPE).
func Core() string { return C.GoString(C.openblas_get_corename()) }
