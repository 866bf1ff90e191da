//go:build noasm || !amd64

package native

// defaultGemm is the gemm the forward pass uses: on amd64 the widest SIMD
// kernels this CPU runs (AVX-512, else AVX2 with FMA), else plain Go.
var defaultGemm = gemms()[0]

// gemms lists the gemm implementations this machine can run, fastest
// first, so that tests can check each against the plain loops.
func gemms() []gemm {
	return []gemm{gemmGo{}}
}
