package prune

import (
	"fmt"
	"math"

	"github.com/ppfkit/ppf/native"
)

// Importance scores of the units inside a layer.
const (
	// ScoreMagnitude is the sum of |w| over the unit's weights; it needs
	// no calibration.
	ScoreMagnitude = "magnitude"
	// ScoreWandaSP is Wanda-sp: |w| times the norm of the input feature it
	// multiplies, summed over the unit's weights.
	ScoreWandaSP = "wanda-sp"
	// ScoreFluctuation is FLAP's fluctuation metric: the variance of each
	// input feature of o (or down) times the squared norm of its weight
	// column, summed over the unit's columns.
	ScoreFluctuation = "fluctuation"
)

// Scores ranks the units of every layer; larger is more important.
type Scores struct {
	Kind     string      `json:"kind"`
	Groups   [][]float64 `json:"groups"`   // (layer)(KV group)
	Channels [][]float64 `json:"channels"` // (layer)(MLP channel)
}

// ComputeScores scores every KV group and MLP channel of m. A KV group g
// is key/value head g with the query heads that read it (g*h .. g*h+h-1
// for h query heads per key/value head): its weights are those heads'
// rows of q, head g's rows of k and v, and those heads' columns of o. An
// MLP channel's weights are its rows of gate and up and its column of
// down. Scores other than ScoreMagnitude need st, gathered on m.
//
//	magnitude:   Σ |w| over the unit's weights
//	wanda-sp:    Σ_rows Σ_j |W_rj|·‖x_j‖ over q, k, v (gate, up) rows, x the
//	             projection's input; plus Σ_i Σ_c |O_ic|·‖a_c‖ over the unit's
//	             columns c of o (down), a its input (‖·‖ as Moments.Norm)
//	fluctuation: Σ_c Var(a_c)·Σ_i O_ic² over the unit's columns of o (down)
func ComputeScores(m *native.Model, st *Stats, kind string) (*Scores, error) {
	switch kind {
	case ScoreMagnitude:
	case ScoreWandaSP, ScoreFluctuation:
		if st == nil {
			return nil, fmt.Errorf("%w: the %s score needs calibration statistics: run Calibrate first", ErrCalibration, kind)
		}
		if err := st.check(m); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown score %q: use %s, %s or %s", kind, ScoreMagnitude, ScoreWandaSP, ScoreFluctuation)
	}
	sc := &Scores{Kind: kind, Groups: make([][]float64, len(m.Layers)), Channels: make([][]float64, len(m.Layers))}
	for i := range m.Layers {
		l := &m.Layers[i]
		var ls *LayerStats
		if st != nil {
			ls = &st.Layers[i]
		}
		sc.Groups[i] = groupScores(m, l, ls, kind)
		sc.Channels[i] = channelScores(m, l, ls, kind)
	}
	return sc, nil
}

// weight returns the factor of input feature j in a score.
func inputWeights(mo *Moments, n int, kind string) []float64 {
	w := make([]float64, n)
	for j := range w {
		switch kind {
		case ScoreMagnitude:
			w[j] = 1
		case ScoreWandaSP:
			w[j] = mo.Norm(j)
		}
	}
	return w
}

// rowScore is Σ_j |row_j|·w_j.
func rowScore(row []float32, w []float64) float64 {
	var s float64
	for j, v := range row {
		s += math.Abs(float64(v)) * w[j]
	}
	return s
}

// columnScores returns, for each column c of the (rows, cols) matrix W,
// Σ_i |W_ic|·w_c (magnitude, wanda-sp) or Var(a_c)·Σ_i W_ic² (fluctuation).
func columnScores(W []float32, rows, cols int, mo *Moments, kind string) []float64 {
	s := make([]float64, cols)
	if kind == ScoreFluctuation {
		for i := 0; i < rows; i++ {
			for c, v := range W[i*cols : (i+1)*cols] {
				s[c] += float64(v) * float64(v)
			}
		}
		for c := range s {
			s[c] *= mo.Var(c)
		}
		return s
	}
	for i := 0; i < rows; i++ {
		for c, v := range W[i*cols : (i+1)*cols] {
			s[c] += math.Abs(float64(v))
		}
	}
	if kind == ScoreWandaSP {
		for c := range s {
			s[c] *= mo.Norm(c)
		}
	}
	return s
}

// groupScores scores the KV groups of one layer.
func groupScores(m *native.Model, l *native.Layer, ls *LayerStats, kind string) []float64 {
	G := l.NumKVHeads
	out := make([]float64, G)
	if G == 0 {
		return out
	}
	D, hd, hpg := m.Dim, m.HeadDim, l.NumHeads/l.NumKVHeads
	qDim := l.NumHeads * hd
	var aOut *Moments
	if ls != nil {
		aOut = &ls.AttnOut
	}
	cols := columnScores(l.Wo, D, qDim, aOut, kind)
	for c, v := range cols {
		out[c/(hd*hpg)] += v
	}
	if kind == ScoreFluctuation {
		return out
	}
	var aIn *Moments
	if ls != nil {
		aIn = &ls.AttnIn
	}
	w := inputWeights(aIn, D, kind)
	for r := 0; r < qDim; r++ {
		out[r/(hd*hpg)] += rowScore(l.Wq[r*D:(r+1)*D], w)
	}
	for r := 0; r < G*hd; r++ {
		out[r/hd] += rowScore(l.Wk[r*D:(r+1)*D], w) + rowScore(l.Wv[r*D:(r+1)*D], w)
	}
	return out
}

// channelScores scores the MLP channels of one layer.
func channelScores(m *native.Model, l *native.Layer, ls *LayerStats, kind string) []float64 {
	H, D := l.HiddenDim, m.Dim
	var aDown, aIn *Moments
	if ls != nil {
		aDown, aIn = &ls.DownIn, &ls.MLPIn
	}
	out := columnScores(l.Down, D, H, aDown, kind)
	if kind == ScoreFluctuation {
		return out
	}
	w := inputWeights(aIn, D, kind)
	for c := 0; c < H; c++ {
		out[c] += rowScore(l.Gate[c*D:(c+1)*D], w) + rowScore(l.Up[c*D:(c+1)*D], w)
	}
	return out
}

// standardize returns (x - mean)/std with the sample standard deviation,
// as FLAP does per layer; all zeros when x is constant.
func standardize(x []float64) []float64 {
	z := make([]float64, len(x))
	if len(x) < 2 {
		return z
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	std := math.Sqrt(ss / float64(len(x)-1))
	if std == 0 || math.IsNaN(std) {
		return z
	}
	for i, v := range x {
		z[i] = (v - mean) / std
	}
	return z
}
