package native

import "math"

// rmsNorm normalises each row of x (rows of width dim) by its root mean
// square and scales it by weight, writing into out (which may be x).
func rmsNorm(out, x, weight []float32, eps float32, dim int) {
	for r := 0; r < len(x)/dim; r++ {
		row, o := x[r*dim:(r+1)*dim], out[r*dim:(r+1)*dim]
		inv := float32(1 / math.Sqrt(float64(sumSquares(row)/float32(dim)+eps)))
		scaleBy(o, row, weight, inv)
	}
}

// sumSquaresGo is sumSquares in plain Go.
func sumSquaresGo(x []float32) float32 {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	return ss
}

// scaleByGo is scaleBy in plain Go.
func scaleByGo(out, x, weight []float32, s float32) {
	weight = weight[:len(x)]
	for i, v := range x {
		out[i] = weight[i] * (s * v)
	}
}

// ropeTables returns cos and sin of position·frequency for every position
// below maxContext and every pair of a head, (maxContext, HeadDim/2), with Llama 3.1's frequency
// scaling when the config has it. The float32 arithmetic mirrors llama2.c.
func ropeTables(c Config, maxContext int) (cos, sin []float32) {
	half := c.HeadDim / 2
	freqs := make([]float32, half)
	for j := range freqs {
		exponent := float32(2*j) / float32(c.HeadDim)
		freqs[j] = 1 / float32(math.Pow(c.RopeTheta, float64(exponent)))
		if rs := c.RopeScaling; rs != nil {
			freqs[j] = float32(scaleLlama3(float64(freqs[j]), rs))
		}
	}
	cos, sin = make([]float32, maxContext*half), make([]float32, maxContext*half)
	for p := 0; p < maxContext; p++ {
		for j, f := range freqs {
			val := float32(p) * f
			cos[p*half+j] = float32(math.Cos(float64(val)))
			sin[p*half+j] = float32(math.Sin(float64(val)))
		}
	}
	return cos, sin
}

// scaleLlama3 applies Llama 3.1's rope scaling to one inverse frequency:
// long wavelengths are divided by Factor, short ones kept, and the band in
// between interpolated smoothly (transformers' _compute_llama3_parameters).
func scaleLlama3(invFreq float64, rs *RopeScaling) float64 {
	old := float64(rs.OriginalContext)
	lowWavelen, highWavelen := old/rs.LowFreqFactor, old/rs.HighFreqFactor
	wavelen := 2 * math.Pi / invFreq
	switch {
	case wavelen < highWavelen:
		return invFreq
	case wavelen > lowWavelen:
		return invFreq / rs.Factor
	default:
		smooth := (old/wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
		return (1-smooth)*invFreq/rs.Factor + smooth*invFreq
	}
}

// rope rotates each adjacent pair (2j, 2j+1) of every head in vec by the
// angle whose cos and sin are given for pair j.
func rope(vec, cos, sin []float32, headDim int) {
	for h := 0; h < len(vec); h += headDim {
		head := vec[h : h+headDim]
		for j := 0; j < headDim/2; j++ {
			v0, v1 := head[2*j], head[2*j+1]
			fc, fs := cos[j], sin[j]
			head[2*j] = v0*fc - v1*fs
			head[2*j+1] = v0*fs + v1*fc
		}
	}
}

// softmaxGo is softmax in plain Go: math.Exp, and sums in order.
func softmaxGo(x []float32) {
	maxVal := x[0]
	for _, v := range x[1:] {
		maxVal = max(maxVal, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - maxVal)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

// swiGLUGo is swiGLU in plain Go.
func swiGLUGo(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// addResidual adds delta (and bias, when not nil) to each row of x.
func addResidual(x, delta, bias []float32, dim int) {
	for i, v := range delta {
		x[i] += v
	}
	if bias != nil {
		for r := 0; r < len(x)/dim; r++ {
			row := x[r*dim : (r+1)*dim]
			for i, b := range bias {
				row[i] += b
			}
		}
	}
}

// logSoftmaxAt returns log p(target) under softmax(logits), in float64 so
// that long averages do not drift.
func logSoftmaxAt(logits []float32, target int) float64 {
	maxVal := maxOf(logits)
	return float64(logits[target]-maxVal) - math.Log(expSum(logits, maxVal))
}

// LogProb returns log p(target) under softmax(logits), exactly as
// Perplexity computes it.
func LogProb(logits []float32, target int) float64 { return logSoftmaxAt(logits, target) }

// LogSumExp returns log(sum(exp(x))) in float64, with the same
// vectorised kernels as perplexity: the normaliser of a row of logits.
func LogSumExp(x []float32) float64 {
	m := maxOf(x)
	return float64(m) + math.Log(expSum(x, m))
}

// maxOfGo is maxOf in plain Go; x may be empty, which gives -Inf.
func maxOfGo(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// expSumGo is expSum in plain Go.
func expSumGo(x []float32, m float32) float64 {
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v - m))
	}
	return sum
}
