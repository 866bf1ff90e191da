package prune

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/ppfkit/ppf/native"
)

// flapPolicy is FLAP's global allocation ("UL-UM" with a global
// threshold, the AL-AM structure of FLAP's code): every layer's
// fluctuation scores are standardised over the layer (attention per
// column of o, then averaged over each KV group's columns; MLP per
// channel), and units are kept in order of standardised score, heads and
// channels together, until the parameter budget is spent. A KV group
// costs GroupParams and a channel ChannelParams, so the threshold is the
// score at which the kept units' cost, not their count, reaches 1-ratio
// of the prunable parameters (FLAP weighs a head as 512/3 channels in
// Llama-7B, the same ratio). Near the threshold a group that would
// overshoot is skipped and channels fill the rest, so the budget is met
// within one channel. Each layer first keeps its best MinGroups groups
// and MinChannels channels whatever their scores.
func flapPolicy(m *native.Model, st *Stats, s Shape, ratio float64) (Policy, error) {
	type unit struct {
		layer, index int
		group        bool
		z            float64
	}
	var units []unit
	groups, channels := make([]int, len(s.Layers)), make([]int, len(s.Layers))
	cc := s.ChannelParams()
	kept := 0
	for i := range m.Layers {
		l := &m.Layers[i]
		ls := &st.Layers[i]
		var zg []float64
		if l.NumKVHeads > 0 {
			cols := standardize(columnScores(l.Wo, m.Dim, l.NumHeads*m.HeadDim, &ls.AttnOut, ScoreFluctuation))
			per := len(cols) / l.NumKVHeads
			zg = make([]float64, l.NumKVHeads)
			for c, z := range cols {
				zg[c/per] += z / float64(per)
			}
		}
		zc := standardize(columnScores(l.Down, m.Dim, l.HiddenDim, &ls.DownIn, ScoreFluctuation))
		// the layer's minimums are kept first: its best units
		for _, g := range topK(zg, s.minGroups(i)) {
			zg[g] = inf
		}
		for _, c := range topK(zc, s.minChannels(i)) {
			zc[c] = inf
		}
		for g, z := range zg {
			units = append(units, unit{i, g, true, z})
		}
		for c, z := range zc {
			units = append(units, unit{i, c, false, z})
		}
	}
	slices.SortStableFunc(units, func(a, b unit) int { return cmp.Compare(b.z, a.z) })

	total := s.Params()
	budget := (1 - ratio) * float64(total)
	cost := func(u unit) int {
		if u.group {
			return s.GroupParams(u.layer)
		}
		return cc
	}
	keep := make([]bool, len(units))
	for k, u := range units {
		if u.z == inf || float64(kept+cost(u)) <= budget+float64(cc)/2 {
			keep[k] = true
			kept += cost(u)
		}
	}
	if float64(kept) > budget+float64(cc)/2 {
		return Policy{}, fmt.Errorf("%w: ratio %.4g asks to remove more than the %.4g that keeping at least %d key/value group(s) and %d MLP channel(s) per layer allows; ask for less or lower the minimums",
			ErrUnreachable, ratio, s.maxRatio(), s.MinGroups, s.MinChannels)
	}
	// Every channel kept and still under budget (the lowest-scored units
	// were groups): keep the best skipped group and give back the
	// lowest-scored channels.
	for float64(kept) < budget-float64(cc)/2 {
		add := -1 // the best group not kept; all channels are kept
		for k := range units {
			if !keep[k] && units[k].group {
				add = k
				break
			}
		}
		if add < 0 {
			break
		}
		keep[add] = true
		kept += cost(units[add])
		for k := len(units) - 1; k >= 0 && float64(kept) > budget+float64(cc)/2; k-- {
			if keep[k] && !units[k].group && units[k].z != inf {
				keep[k] = false
				kept -= cc
			}
		}
	}
	for k, u := range units {
		if keep[k] {
			if u.group {
				groups[u.layer]++
			} else {
				channels[u.layer]++
			}
		}
	}
	p := Policy{Layers: make([]LayerPolicy, len(s.Layers))}
	for i := range s.Layers {
		p.Layers[i] = LayerPolicy{HeadUnits: groups[i], MLPUnits: channels[i]}
	}
	return p, p.Validate(s)
}

var inf = math.Inf(1)

// topK returns the indices of the k largest scores, ties to the lower index.
func topK(scores []float64, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	return idx[:min(k, len(idx))]
}
