package ppfnb

import (
	"math"
	"math/rand/v2"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// mutator makes random moves between policies of one budget, as
// EvoPress's mutations do: whatever a move takes from one place it gives
// to another, so the global ratio stays fixed. Collection uses it to
// sample around the baselines' policies, search to explore around its
// best candidates.
type mutator struct {
	s     predictor.Space
	alloc *predictor.Allocator
	w     []float64
	half  float64 // half the cheapest channel's cost: the budget's tolerance
}

func newMutator(s predictor.Space) *mutator {
	half := math.Inf(1)
	for _, l := range s.Layers {
		if l.MLPUnits > l.MinMLPUnits && l.MLPUnitCost > 0 {
			half = min(half, float64(l.MLPUnitCost)/2)
		}
	}
	if math.IsInf(half, 1) {
		half = 0.5
	}
	return &mutator{s: s, alloc: predictor.NewAllocator(s), w: make([]float64, 2*len(s.Layers)), half: half}
}

// meets reports whether p removes ratio of the prunable parameters within
// half a channel's cost: the guarantee of the agent and of Allocate.
func (m *mutator) meets(p predictor.Policy, ratio float64) bool {
	return math.Abs(float64(m.s.Removed(p))-ratio*float64(m.s.Params())) <= m.half+1e-9
}

// pickLayer returns a random layer index satisfying ok, or -1.
func pickLayer(rng *rand.Rand, n int, ok func(i int) bool) int {
	start := rng.IntN(n)
	for d := range n {
		if i := (start + d) % n; ok(i) {
			return i
		}
	}
	return -1
}

// mutate returns a copy of p after one random move, repaired to remove
// ratio of the parameters; ok is false when no move was possible. The
// moves, in proportions 35/25/25/15: channels from one layer's MLP to
// another's; one key/value group from one layer to another; a group
// traded for its cost in channels, or the reverse (attention against
// MLP, in one layer or across); a reallocation of the whole policy with
// predictor.Allocator, its per-layer removal shares jittered by about
// 35% (a larger jump, which single moves cannot make).
func (m *mutator) mutate(rng *rand.Rand, p predictor.Policy, ratio float64) (predictor.Policy, bool) {
	q := clonePolicy(p)
	L := len(q.Layers)
	ls := m.s.Layers
	kept := func(i int) bool { return !q.Layers[i].Drop }
	u := rng.Float64()
	switch {
	case u < 0.35: // channels between layers
		a := pickLayer(rng, L, func(i int) bool { return kept(i) && q.Layers[i].MLPUnits > ls[i].MinMLPUnits })
		b := pickLayer(rng, L, func(i int) bool { return kept(i) && i != a && q.Layers[i].MLPUnits < ls[i].MLPUnits })
		if a < 0 || b < 0 {
			return p, false
		}
		d := 1 + rng.IntN(max(1, ls[a].MLPUnits/8))
		d = min(d, q.Layers[a].MLPUnits-ls[a].MinMLPUnits, ls[b].MLPUnits-q.Layers[b].MLPUnits)
		q.Layers[a].MLPUnits -= d
		q.Layers[b].MLPUnits += d
	case u < 0.60: // a group between layers
		a := pickLayer(rng, L, func(i int) bool { return kept(i) && q.Layers[i].HeadUnits > ls[i].MinHeadUnits })
		b := pickLayer(rng, L, func(i int) bool { return kept(i) && i != a && q.Layers[i].HeadUnits < ls[i].HeadUnits })
		if a < 0 || b < 0 {
			return p, false
		}
		q.Layers[a].HeadUnits--
		q.Layers[b].HeadUnits++
	case u < 0.85: // attention against MLP: repair pays for it in channels
		if rng.IntN(2) == 0 {
			a := pickLayer(rng, L, func(i int) bool { return kept(i) && q.Layers[i].HeadUnits > ls[i].MinHeadUnits })
			if a < 0 {
				return p, false
			}
			q.Layers[a].HeadUnits--
		} else {
			a := pickLayer(rng, L, func(i int) bool { return kept(i) && q.Layers[i].HeadUnits < ls[i].HeadUnits })
			if a < 0 {
				return p, false
			}
			q.Layers[a].HeadUnits++
		}
	default: // reallocate
		for _, l := range q.Layers {
			if l.Drop {
				return p, false
			}
		}
		for i, l := range ls {
			lp := q.Layers[i]
			m.w[2*i] = (1 - keptFrac(lp.HeadUnits, l.HeadUnits) + 0.02) * math.Exp(0.35*rng.NormFloat64())
			m.w[2*i+1] = (1 - keptFrac(lp.MLPUnits, l.MLPUnits) + 0.02) * math.Exp(0.35*rng.NormFloat64())
		}
		if err := m.alloc.Allocate(ratio, m.w, q); err != nil {
			return p, false
		}
	}
	if !m.repair(rng, q, ratio) {
		return p, false
	}
	return q, true
}

func keptFrac(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// repair moves channels (and, when channels alone cannot, groups) in
// random layers until q removes ratio of the parameters within half a
// channel; false when it cannot.
func (m *mutator) repair(rng *rand.Rand, q predictor.Policy, ratio float64) bool {
	ls := m.s.Layers
	L := len(q.Layers)
	target := ratio * float64(m.s.Params())
	for range 8 * L {
		excess := float64(m.s.Removed(q)) - target // > 0: removes too much, keep more
		if math.Abs(excess) <= m.half+1e-9 {
			return true
		}
		if excess > 0 {
			i := pickLayer(rng, L, func(i int) bool { return !q.Layers[i].Drop && q.Layers[i].MLPUnits < ls[i].MLPUnits })
			if i < 0 {
				if g := pickLayer(rng, L, func(i int) bool { return !q.Layers[i].Drop && q.Layers[i].HeadUnits < ls[i].HeadUnits }); g >= 0 {
					q.Layers[g].HeadUnits++
					continue
				}
				return false
			}
			n := int(math.Round(excess / float64(ls[i].MLPUnitCost)))
			n = max(1, min(n, 1+rng.IntN(max(n, 1)), ls[i].MLPUnits-q.Layers[i].MLPUnits))
			q.Layers[i].MLPUnits += n
		} else {
			i := pickLayer(rng, L, func(i int) bool { return !q.Layers[i].Drop && q.Layers[i].MLPUnits > ls[i].MinMLPUnits })
			if i < 0 {
				if g := pickLayer(rng, L, func(i int) bool { return !q.Layers[i].Drop && q.Layers[i].HeadUnits > ls[i].MinHeadUnits }); g >= 0 {
					q.Layers[g].HeadUnits--
					continue
				}
				return false
			}
			n := int(math.Round(-excess / float64(ls[i].MLPUnitCost)))
			n = max(1, min(n, 1+rng.IntN(max(n, 1)), q.Layers[i].MLPUnits-ls[i].MinMLPUnits))
			q.Layers[i].MLPUnits -= n
		}
	}
	return math.Abs(float64(m.s.Removed(q))-target) <= m.half+1e-9
}
