package backendtest

import (
	"math"

	"github.com/ppfkit/ppf/native"
)

// Reference is the Llama forward pass written as directly as possible, in
// float64, one token and one head at a time, with no code shared with the
// engine: the parity reference of every backend. It honours per-layer
// sizes, masks and compensation biases, and returns the logits of tokens
// run from position 0, (len(tokens), VocabSize).
func Reference(m *native.Model, tokens []int) []float32 {
	c := m.Config
	D, hd, T := c.Dim, c.HeadDim, len(tokens)
	linear := func(w []float32, x []float64, out int) []float64 {
		y := make([]float64, out)
		for o := range y {
			for i, v := range x {
				y[o] += float64(w[o*len(x)+i]) * v
			}
		}
		return y
	}
	norm := func(x []float64, w []float32) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		r := 1 / math.Sqrt(ss/float64(len(x))+float64(c.NormEps))
		y := make([]float64, len(x))
		for i := range x {
			y[i] = x[i] * r * float64(w[i])
		}
		return y
	}
	invFreq := func(j int) float64 {
		f := 1 / math.Pow(c.RopeTheta, float64(2*j)/float64(hd))
		if rs := c.RopeScaling; rs != nil { // transformers' llama3 rule
			wl := 2 * math.Pi / f
			lowWl, highWl := float64(rs.OriginalContext)/rs.LowFreqFactor, float64(rs.OriginalContext)/rs.HighFreqFactor
			if wl > lowWl {
				f /= rs.Factor
			} else if wl >= highWl {
				s := (float64(rs.OriginalContext)/wl - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
				f = (1-s)*f/rs.Factor + s*f
			}
		}
		return f
	}
	rotate := func(v []float64, pos int) {
		for h := 0; h < len(v); h += hd {
			for j := 0; j < hd/2; j++ {
				a := float64(pos) * invFreq(j)
				x0, x1 := v[h+2*j], v[h+2*j+1]
				v[h+2*j] = x0*math.Cos(a) - x1*math.Sin(a)
				v[h+2*j+1] = x0*math.Sin(a) + x1*math.Cos(a)
			}
		}
	}

	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = make([]float64, D)
		for i := range x[t] {
			x[t][i] = float64(m.Embedding[tok*D+i])
		}
	}
	addBias := func(xt []float64, b []float32) {
		for i := range b {
			xt[i] += float64(b[i])
		}
	}
	for _, l := range m.Layers {
		// attention block; all-heads-removed leaves only its bias
		if l.NumHeads > 0 {
			q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
			for t := range x {
				h := norm(x[t], l.AttnNorm)
				q[t], k[t], v[t] = linear(l.Wq, h, l.NumHeads*hd), linear(l.Wk, h, l.NumKVHeads*hd), linear(l.Wv, h, l.NumKVHeads*hd)
				rotate(q[t], t)
				rotate(k[t], t)
			}
			for t := range x {
				att := make([]float64, l.NumHeads*hd)
				for h := 0; h < l.NumHeads; h++ {
					if l.HeadMask != nil && !l.HeadMask[h] {
						continue
					}
					kv := h / (l.NumHeads / l.NumKVHeads)
					w := make([]float64, t+1)
					var sum float64
					for p := 0; p <= t; p++ {
						var s float64
						for i := 0; i < hd; i++ {
							s += q[t][h*hd+i] * k[p][kv*hd+i]
						}
						w[p] = math.Exp(s / math.Sqrt(float64(hd)))
						sum += w[p]
					}
					for p := 0; p <= t; p++ {
						for i := 0; i < hd; i++ {
							att[h*hd+i] += w[p] / sum * v[p][kv*hd+i]
						}
					}
				}
				for i, o := range linear(l.Wo, att, D) {
					x[t][i] += o
				}
			}
		}
		for t := range x {
			addBias(x[t], l.AttnBias)
		}

		// MLP block
		for t := range x {
			if l.HiddenDim > 0 {
				h := norm(x[t], l.MLPNorm)
				g, u := linear(l.Gate, h, l.HiddenDim), linear(l.Up, h, l.HiddenDim)
				for i := range g {
					g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
					if l.ChannelMask != nil && !l.ChannelMask[i] {
						g[i] = 0
					}
				}
				for i, d := range linear(l.Down, g, D) {
					x[t][i] += d
				}
			}
			addBias(x[t], l.MLPBias)
		}
	}
	var logits []float32
	for t := range x {
		for _, v := range linear(m.Output, norm(x[t], m.FinalNorm), c.VocabSize) {
			logits = append(logits, float32(v))
		}
	}
	return logits
}
