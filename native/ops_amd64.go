//go:build !noasm

package native

import "golang.org/x/sys/cpu"

// vecOps says whether softmax and swiGLU run as SIMD kernels (AVX2 with
// FMA on amd64); tests turn it off to compare them with the plain loops.
var vecOps = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// softmax turns x into probabilities in place:
//
//	m := max(x...)
//	for i := range x { x[i] = exp(x[i] - m); sum += x[i] }
//	for i := range x { x[i] /= sum }
func softmax(x []float32) {
	if vecOps && len(x) > 0 {
		softmaxAVX2(&x[0], len(x))
		return
	}
	softmaxGo(x)
}

// expSum returns Σ exp(float64(x[i] - m)), each term within a few float64
// ulp of math.Exp's.
func expSum(x []float32, m float32) float64 {
	var sum float64
	if vecOps && len(x) >= 8 {
		n := len(x) &^ 7
		sum = expSumAVX2(&x[0], n, m)
		x = x[n:]
	}
	return sum + expSumGo(x, m)
}

// maxOf returns the largest of x (not empty).
func maxOf(x []float32) float32 {
	m := x[0]
	if vecOps && len(x) >= 32 {
		n := len(x) &^ 31
		m = maxAVX2(&x[0], n)
		x = x[n:]
	}
	return max(m, maxOfGo(x))
}

// swiGLU computes gate = silu(gate) * up in place:
//
//	for i, g := range gate { gate[i] = g / (1 + exp(-g)) * up[i] }
func swiGLU(gate, up []float32) {
	if vecOps && len(gate) > 0 {
		up = up[:len(gate)]
		swiGLUAVX2(&gate[0], &up[0], len(gate))
		return
	}
	swiGLUGo(gate, up)
}

// sumSquares returns Σ x[i]², summed in a fixed order.
func sumSquares(x []float32) float32 {
	if vecOps && len(x) > 0 {
		return sumSquaresAVX2(&x[0], len(x))
	}
	return sumSquaresGo(x)
}

// scaleBy sets out[i] = weight[i] * (s * x[i]).
func scaleBy(out, x, weight []float32, s float32) {
	if vecOps && len(x) > 0 {
		out, weight = out[:len(x)], weight[:len(x)]
		scaleByAVX2(&out[0], &x[0], &weight[0], len(x), s)
		return
	}
	scaleByGo(out, x, weight, s)
}

//go:noescape
func softmaxAVX2(x *float32, n int)

//go:noescape
func expSumAVX2(x *float32, n int, m float32) float64

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func swiGLUAVX2(gate, up *float32, n int)

//go:noescape
func sumSquaresAVX2(x *float32, n int) float32

//go:noescape
func scaleByAVX2(out, x, weight *float32, n int, s float32)
