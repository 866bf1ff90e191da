//go:build noasm || !amd64

package native

// vecOps says whether softmax and swiGLU run as SIMD kernels (AVX2 with
// FMA on amd64); tests turn it off to compare them with the plain loops.
var vecOps = false

// softmax turns x into probabilities in place:
//
//	m := max(x...)
//	for i := range x { x[i] = exp(x[i] - m); sum += x[i] }
//	for i := range x { x[i] /= sum }
func softmax(x []float32) {
	softmaxGo(x)
}

// expSum returns Σ exp(float64(x[i] - m)).
func expSum(x []float32, m float32) float64 {
	return expSumGo(x, m)
}

// maxOf returns the largest of x (not empty).
func maxOf(x []float32) float32 {
	return maxOfGo(x)
}

// swiGLU computes gate = silu(gate) * up in place:
//
//	for i, g := range gate { gate[i] = g / (1 + exp(-g)) * up[i] }
func swiGLU(gate, up []float32) {
	swiGLUGo(gate, up)
}

// sumSquares returns Σ x[i]², summed in a fixed order.
func sumSquares(x []float32) float32 {
	return sumSquaresGo(x)
}

// scaleBy sets out[i] = weight[i] * (s * x[i]).
func scaleBy(out, x, weight []float32, s float32) {
	scaleByGo(out, x, weight, s)
}
