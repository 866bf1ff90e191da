package prune

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ppfkit/ppf/native"
)

// Allocate returns the policy that removes ratio of the prunable
// parameters (Shape.Params), within one MLP channel's worth, and is
// closest to the wanted per-layer pruning ratios heads and mlp (fractions
// of each layer's KV groups and channels to remove). Each layer keeps the
// nearest whole number of KV groups to its wish (between the minimums and
// all), and the channels make up the exact budget: they are shared out in
// proportion to the wishes shifted by one common amount, so that layers
// keep their differences. When the rounded groups leave the channels
// unable to meet the budget, groups move first from the layers that
// rounded up the most (or to those that rounded down the most).
func Allocate(s Shape, ratio float64, heads, mlp []float64) (Policy, error) {
	if err := checkRatio("pruning", ratio, false); err != nil {
		return Policy{}, err
	}
	L := len(s.Layers)
	if len(heads) != L || len(mlp) != L {
		return Policy{}, fmt.Errorf("%w: %d head ratios and %d MLP ratios for a model of %d layers", ErrBadPolicy, len(heads), len(mlp), L)
	}
	for i := range heads {
		if err := checkRatio(fmt.Sprintf("layer %d head", i), heads[i], true); err != nil {
			return Policy{}, err
		}
		if err := checkRatio(fmt.Sprintf("layer %d MLP", i), mlp[i], true); err != nil {
			return Policy{}, err
		}
	}
	total, cc := float64(s.Params()), float64(s.ChannelParams())
	budget := (1 - ratio) * total // parameters to keep
	if maxR := s.maxRatio(); (1-maxR)*total > budget+cc/2 {
		return Policy{}, fmt.Errorf("%w: ratio %.4g asks to remove more than the %.4g that keeping at least %d key/value group(s) and %d MLP channel(s) per layer allows; ask for less or lower the minimums",
			ErrUnreachable, ratio, maxR, s.MinGroups, s.MinChannels)
	}

	groups, wantG := make([]int, L), make([]float64, L)
	minC, maxC, allGroups := 0, 0, 0
	for i, l := range s.Layers {
		allGroups += l.KVHeads
		wantG[i] = (1 - heads[i]) * float64(l.KVHeads)
		groups[i] = min(max(int(math.Round(wantG[i])), s.minGroups(i)), l.KVHeads)
		minC += s.minChannels(i)
		maxC += l.Channels
	}
	channelsLeft := func() int {
		kept := 0.0
		for i, g := range groups {
			kept += float64(g * s.GroupParams(i))
		}
		return int(math.Round((budget - kept) / cc))
	}
	for range 2*allGroups + 1 { // each step moves one group; they cannot move further than all of them
		C, best := channelsLeft(), -1
		switch {
		case C < minC: // too many groups kept: take one from the layer most above its wish
			for i := range groups {
				if groups[i] > s.minGroups(i) && (best < 0 || float64(groups[i])-wantG[i] > float64(groups[best])-wantG[best]) {
					best = i
				}
			}
			if best >= 0 {
				groups[best]--
			}
		case C > maxC: // every channel kept and budget left: give a group to the layer most below its wish
			for i := range groups {
				if groups[i] < s.Layers[i].KVHeads && (best < 0 || wantG[i]-float64(groups[i]) > wantG[best]-float64(groups[best])) {
					best = i
				}
			}
			if best >= 0 {
				groups[best]++
			}
		}
		if best < 0 {
			break
		}
	}
	C := min(max(channelsLeft(), minC), maxC)

	want, lo, hi := make([]float64, L), make([]int, L), make([]int, L)
	for i, l := range s.Layers {
		want[i] = (1 - mlp[i]) * float64(l.Channels)
		lo[i], hi[i] = s.minChannels(i), l.Channels
	}
	channels := apportion(C, want, lo, hi)

	p := Policy{Layers: make([]LayerPolicy, L)}
	for i := range s.Layers {
		p.Layers[i] = LayerPolicy{HeadUnits: groups[i], MLPUnits: channels[i]}
	}
	if err := p.Validate(s); err != nil {
		return Policy{}, err
	}
	if off := math.Abs(float64(p.Params(s)) - budget); off > cc {
		return Policy{}, fmt.Errorf("%w: the closest policy to ratio %.4g removes %.4g; this model's layers cannot meet it within one channel",
			ErrUnreachable, ratio, p.Ratio(s))
	}
	return p, nil
}

// apportion shares total integer units among layers: x_i = clamp(want_i +
// δ, lo_i, hi_i) with one δ chosen so the x_i sum to total, then rounded
// down, and the units left go to the largest remainders. total must lie
// in [Σ lo, Σ hi].
func apportion(total int, want []float64, lo, hi []int) []int {
	n := len(want)
	x := make([]float64, n)
	sum := func(d float64) float64 {
		s := 0.0
		for i := range want {
			x[i] = min(max(want[i]+d, float64(lo[i])), float64(hi[i]))
			s += x[i]
		}
		return s
	}
	a, b := -1.0, 1.0
	for _, h := range hi {
		a, b = min(a, -float64(h)-1), max(b, float64(h)+1)
	}
	for range 200 {
		mid := (a + b) / 2
		if sum(mid) < float64(total) {
			a = mid
		} else {
			b = mid
		}
	}
	sum(b)
	out, left := make([]int, n), total
	for i := range x {
		out[i] = min(max(int(math.Floor(x[i]+1e-9)), lo[i]), hi[i])
		left -= out[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	frac := func(i int) float64 { return x[i] - math.Floor(x[i]+1e-9) }
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(frac(j), frac(i)) })
	for left != 0 {
		moved := false
		for _, i := range order {
			if left > 0 && out[i] < hi[i] {
				out[i]++
				left--
				moved = true
			} else if left < 0 && out[i] > lo[i] {
				out[i]--
				left++
				moved = true
			}
			if left == 0 {
				break
			}
		}
		if !moved {
			break
		}
	}
	return out
}

// uniformRatios wants ratio everywhere.
func uniformRatios(n int, ratio float64) (heads, mlp []float64) {
	heads, mlp = make([]float64, n), make([]float64, n)
	for i := range heads {
		heads[i], mlp[i] = ratio, ratio
	}
	return heads, mlp
}

// randomRatios draws each layer's wished head and MLP ratios uniformly
// within ±min(ratio, 1-ratio) of ratio, from a generator fixed by seed.
func randomRatios(n int, ratio float64, seed uint64) (heads, mlp []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x7072756e65)) // "prune"
	spread := min(ratio, 1-ratio)
	heads, mlp = make([]float64, n), make([]float64, n)
	for i := range heads {
		heads[i] = min(max(ratio+spread*(2*rng.Float64()-1), 0), 1)
		mlp[i] = min(max(ratio+spread*(2*rng.Float64()-1), 0), 1)
	}
	return heads, mlp
}

// owlRatios returns OWL's layer-wise ratios (Yin et al. 2024, "Outlier
// Weighed Layerwise sparsity"): each layer's outlier ratio D_l is the
// share of its weights (q, k, v, o, gate, up, down) whose Wanda score
// |W_ij|·‖x_j‖ exceeds m times the layer's mean score. The D_l are scaled
// linearly onto [0, 2λ], shifted so their mean is 1-ratio, and taken as
// each layer's kept fraction: layers with more outliers keep more, and the
// layers' ratios span a band 2λ wide around the target. Equal outlier
// ratios give the uniform policy.
func owlRatios(mod *native.Model, st *Stats, ratio, m, lambda float64) []float64 {
	L := len(mod.Layers)
	lod := make([]float64, L)
	for i := range mod.Layers {
		lod[i] = outlierRatio(mod, &mod.Layers[i], &st.Layers[i], m)
	}
	lo, hi := slices.Min(lod), slices.Max(lod)
	out := make([]float64, L)
	if hi-lo <= 0 {
		for i := range out {
			out[i] = ratio
		}
		return out
	}
	var mean float64
	keep := make([]float64, L)
	for i, d := range lod {
		keep[i] = (d - lo) / (hi - lo) * 2 * lambda
		mean += keep[i] / float64(L)
	}
	for i := range keep {
		out[i] = min(max(1-(keep[i]-mean+(1-ratio)), 0), 1)
	}
	return out
}

// outlierRatio is the share of the layer's Wanda scores above m times their mean.
func outlierRatio(mod *native.Model, l *native.Layer, ls *LayerStats, m float64) float64 {
	D := mod.Dim
	type mat struct {
		w    []float32
		cols int
		in   *Moments
	}
	mats := []mat{
		{l.Wq, D, &ls.AttnIn}, {l.Wk, D, &ls.AttnIn}, {l.Wv, D, &ls.AttnIn}, {l.Wo, l.NumHeads * mod.HeadDim, &ls.AttnOut},
		{l.Gate, D, &ls.MLPIn}, {l.Up, D, &ls.MLPIn}, {l.Down, l.HiddenDim, &ls.DownIn},
	}
	norms := make([][]float64, len(mats))
	var sum float64
	var n int
	for k, mt := range mats {
		if mt.cols == 0 {
			continue
		}
		norms[k] = inputWeights(mt.in, mt.cols, ScoreWandaSP)
		for i, v := range mt.w {
			sum += math.Abs(float64(v)) * norms[k][i%mt.cols]
		}
		n += len(mt.w)
	}
	if n == 0 || sum == 0 {
		return 0
	}
	thr := m * sum / float64(n)
	var count int
	for k, mt := range mats {
		for i, v := range mt.w {
			if math.Abs(float64(v))*norms[k][i%mt.cols] > thr {
				count++
			}
		}
	}
	return float64(count) / float64(n)
}

// shortGPTPolicy drops the layers of lowest block influence: round(ratio ×
// layers) of them, halves rounding up, at most all but one. The ratio
// achieved is a multiple of 1/layers for a model with equal layers.
func shortGPTPolicy(s Shape, st *Stats, ratio float64) (Policy, error) {
	L := len(s.Layers)
	n := int(math.Floor(ratio*float64(L) + 0.5 + 1e-9))
	if n >= L {
		return Policy{}, fmt.Errorf("%w: ratio %.4g asks shortgpt to drop %d of %d layers; it keeps at least one (ratio at most %.4g)",
			ErrUnreachable, ratio, n, L, float64(L-1)/float64(L))
	}
	order := make([]int, L)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(st.Layers[a].Influence(), st.Layers[b].Influence())
	})
	p := Dense(s)
	for _, i := range order[:n] {
		p.Layers[i] = LayerPolicy{Drop: true}
	}
	return p, nil
}
