package predictor

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Allocate returns the policy that removes ratio of the prunable
// parameters, within half a unit's cost (of the cheapest unit that can
// still move, usually one MLP channel), with the removal shared out by
// weight: layer l's attention is given a share of the removal budget
// proportional to headWeights[l] times its parameters, and its MLP
// mlpWeights[l] times its parameters, so all-equal weights give the
// uniform policy. No layer is dropped and every layer keeps its minimums.
//
// The continuous shares are water-filled: a unit type whose share exceeds
// what it can give (its units above the minimum) gives all of it and the
// rest is shared again among the others by weight; units with weight 0
// are used only when the others cannot meet the budget. Attention units
// are then rounded (down, then up in order of largest fractional part
// while that brings the attention total closer to its share), the MLP
// channels share what is left of the budget by weight and are rounded
// the same way, and last, single units are added or put back, the move
// that helps most first, until none helps.
func (s Space) Allocate(ratio float64, headWeights, mlpWeights []float64) (Policy, error) {
	L := len(s.Layers)
	if len(headWeights) != L || len(mlpWeights) != L {
		return Policy{}, fmt.Errorf("%w: %d head and %d MLP weights for model %q of %d layers",
			ErrBadPolicy, len(headWeights), len(mlpWeights), s.ModelID, L)
	}
	if err := s.Validate(); err != nil {
		return Policy{}, err
	}
	a := newAllocator(s)
	for i := range L {
		h, m := headWeights[i], mlpWeights[i]
		if !(h >= 0 && m >= 0) || math.IsInf(h, 0) || math.IsInf(m, 0) {
			return Policy{}, fmt.Errorf("%w: layer %d weights %v and %v must be finite and not negative", ErrBadPolicy, i, h, m)
		}
		a.w[2*i], a.w[2*i+1] = h, m
	}
	p := Policy{Layers: make([]LayerPolicy, L)}
	if err := a.allocate(ratio, p); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Uniform returns the policy that removes ratio of every layer's
// attention and MLP parameters (as closely as whole units and the
// minimums allow), meeting the global ratio as Allocate does.
func (s Space) Uniform(ratio float64) (Policy, error) {
	ones := make([]float64, len(s.Layers))
	for i := range ones {
		ones[i] = 1
	}
	return s.Allocate(ratio, ones, ones)
}

// Allocator is Allocate with its buffers kept, for callers that allocate
// many policies (the agent). Not safe for concurrent use.
type Allocator struct {
	s          Space
	total      float64
	c, cap     []float64 // per unit type (2l: attention of layer l, 2l+1: its MLP): unit cost, units that can go
	w, wk      []float64 // weights times the type's parameters; scratch weights
	x, r       []float64 // continuous units removed; fractional parts (or fill levels)
	n, trial   []int     // units removed
	order      []int
	maxRemoved float64
}

// NewAllocator returns an Allocator for s, which must be valid
// (Space.Validate).
func NewAllocator(s Space) *Allocator { return newAllocator(s) }

func newAllocator(s Space) *Allocator {
	L := len(s.Layers)
	f := func() []float64 { return make([]float64, 2*L) }
	a := &Allocator{s: s, total: float64(s.Params()), c: f(), cap: f(), w: f(), wk: f(), x: f(), r: f(),
		n: make([]int, 2*L), trial: make([]int, 2*L), order: make([]int, 2*L)}
	for i, l := range s.Layers {
		a.c[2*i], a.c[2*i+1] = float64(l.HeadUnitCost), float64(l.MLPUnitCost)
		a.cap[2*i], a.cap[2*i+1] = float64(l.HeadUnits-l.MinHeadUnits), float64(l.MLPUnits-l.MinMLPUnits)
	}
	for j := range a.c {
		if a.c[j] == 0 {
			a.cap[j] = 0 // free units change nothing: leave them
		}
		a.maxRemoved += a.cap[j] * a.c[j]
	}
	return a
}

// Allocate is Space.Allocate with weights given per unit type: w[2l] for
// layer l's attention, w[2l+1] for its MLP, writing into p (which must
// have one entry per layer).
func (a *Allocator) Allocate(ratio float64, w []float64, p Policy) error {
	if len(w) != len(a.w) || len(p.Layers) != len(a.s.Layers) {
		return fmt.Errorf("%w: %d weights and a policy of %d layers for model %q of %d layers (want 2 weights per layer)",
			ErrBadPolicy, len(w), len(p.Layers), a.s.ModelID, len(a.s.Layers))
	}
	for j, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: weight %d is %v; weights must be finite and not negative", ErrBadPolicy, j, v)
		}
	}
	copy(a.w, w)
	return a.allocate(ratio, p)
}

// Unit type selections for spread.
const (
	attnTypes = iota
	mlpTypes
	allTypes
)

func selected(j, kind int) bool { return kind == allTypes || j%2 == kind }

func (a *Allocator) allocate(ratio float64, p Policy) error {
	if !(ratio >= 0 && ratio <= 1) {
		return fmt.Errorf("%w: ratio %v must lie in [0, 1]: it is the fraction of prunable parameters removed", ErrUnreachable, ratio)
	}
	R := ratio * a.total
	if R > a.maxRemoved+minCost(a.c)/2 {
		return fmt.Errorf("%w: ratio %.4g asks to remove more than the %.4g that model %q allows with its minimums; ask for less or lower the minimums",
			ErrUnreachable, ratio, a.maxRemoved/a.total, a.s.ModelID)
	}
	R = min(R, a.maxRemoved)
	// Shares in parameters: weight times the type's parameters.
	for j := range a.w {
		l := a.s.Layers[j/2]
		units := l.HeadUnits
		if j%2 == 1 {
			units = l.MLPUnits
		}
		a.w[j] *= float64(units) * a.c[j]
		if a.cap[j] == 0 {
			a.w[j] = 0
		}
	}
	a.spread(R, allTypes)
	a.round(R)
	for i, l := range a.s.Layers {
		p.Layers[i] = LayerPolicy{HeadUnits: l.HeadUnits - a.n[2*i], MLPUnits: l.MLPUnits - a.n[2*i+1]}
	}
	return nil
}

// spread sets a.x for the selected unit types to the split of R
// parameters by weight: water-filled, then, if the weighted types are
// full, the rest over the zero-weight types by what they can give.
func (a *Allocator) spread(R float64, kind int) {
	for j := range a.w {
		a.wk[j] = 0
		if selected(j, kind) {
			a.x[j], a.wk[j] = 0, a.w[j]
		}
	}
	if left := a.waterfill(R, a.wk); left > 0 {
		for j := range a.w {
			a.wk[j] = 0
			if selected(j, kind) && a.w[j] == 0 {
				a.wk[j] = a.cap[j] * a.c[j]
			}
		}
		a.waterfill(left, a.wk)
	}
}

// waterfill sets a.x (units removed) of the types with positive weight
// in w to the split of R parameters in proportion to w, capped at what
// each type can give; it returns the parameters it could not place.
func (a *Allocator) waterfill(R float64, w []float64) float64 {
	ord := a.order[:0]
	sumW := 0.0
	for j, v := range w {
		if v > 0 {
			ord = append(ord, j)
			sumW += v
			a.r[j] = a.cap[j] * a.c[j] / v // the level at which the type fills up
		}
	}
	slices.SortFunc(ord, func(i, j int) int { return cmp.Or(cmp.Compare(a.r[i], a.r[j]), i-j) })
	k := 0
	for ; k < len(ord) && sumW > 0; k++ {
		j := ord[k]
		if R/sumW*w[j] < a.cap[j]*a.c[j] {
			break
		}
		a.x[j] = a.cap[j]
		R -= a.cap[j] * a.c[j]
		sumW -= w[j]
	}
	if k == len(ord) || sumW <= 0 {
		return max(R, 0)
	}
	lambda := R / sumW
	for _, j := range ord[k:] {
		a.x[j] = lambda * w[j] / a.c[j]
	}
	return 0
}

// roundKind rounds a.x of the selected types down into a.n, then adds a
// unit to the types of largest fractional part while that brings their
// removed parameters closer to target; it returns what is left of
// target.
func (a *Allocator) roundKind(kind int, target float64) float64 {
	ord := a.order[:0]
	for j, x := range a.x {
		if !selected(j, kind) {
			continue
		}
		n := min(max(int(math.Floor(x+1e-9)), 0), int(a.cap[j]))
		a.n[j], a.r[j] = n, x-float64(n)
		target -= float64(n) * a.c[j]
		ord = append(ord, j)
	}
	slices.SortStableFunc(ord, func(i, j int) int { return cmp.Compare(a.r[j], a.r[i]) })
	for _, j := range ord {
		if a.n[j] < int(a.cap[j]) && 2*target > a.c[j] {
			a.n[j]++
			target -= a.c[j]
		}
	}
	return target
}

// round turns a.x into whole units a.n that remove R parameters within
// half a unit's cost. Attention units, the coarse ones, are rounded
// first; the MLP's share is then spread again, by weight, over what the
// rounded attention leaves, and rounded in turn; single moves mend the
// rest.
func (a *Allocator) round(R float64) {
	attn := 0.0
	for j := 0; j < len(a.x); j += 2 {
		attn += a.x[j] * a.c[j]
	}
	a.roundKind(attnTypes, attn)
	M, capM := R, 0.0
	for j := range a.n {
		if j%2 == 0 {
			M -= float64(a.n[j]) * a.c[j]
		} else {
			capM += a.cap[j] * a.c[j]
		}
	}
	// The MLP cannot take the rest: move attention units, those rounded
	// the least favourably first.
	for M > capM {
		j := a.pickAttn(+1)
		if j < 0 {
			break
		}
		a.n[j]++
		M -= a.c[j]
	}
	for M < 0 {
		j := a.pickAttn(-1)
		if j < 0 {
			break
		}
		a.n[j]--
		M += a.c[j]
	}
	a.spread(min(max(M, 0), capM), mlpTypes)
	a.roundKind(mlpTypes, min(max(M, 0), capM))

	D := R
	for j, n := range a.n {
		D -= float64(n) * a.c[j]
		a.order[j] = j
	}
	D = a.settle(a.n, D, math.Inf(1))
	// A coarse unit may be in the way (say every channel is at its
	// minimum, and the budget needs a fraction of a head): try each
	// single unit moved, then settled with finer units only, and keep the
	// best.
	for range len(a.n) {
		fine := math.Inf(1)
		for j, n := range a.n {
			if n > 0 || n < int(a.cap[j]) {
				fine = min(fine, a.c[j])
			}
		}
		if 2*math.Abs(D) <= fine {
			return
		}
		best, bestD := -1, math.Abs(D)*(1-1e-12)
		var bestN []int
		for j := range a.n {
			for _, step := range []int{1, -1} {
				if k := a.n[j] + step; k < 0 || k > int(a.cap[j]) {
					continue
				}
				a.trial = append(a.trial[:0], a.n...)
				a.trial[j] += step
				if d := a.settle(a.trial, D-float64(step)*a.c[j], a.c[j]); math.Abs(d) < bestD {
					best, bestD, bestN = j, math.Abs(d), append(bestN[:0], a.trial...)
				}
			}
		}
		if best < 0 {
			return
		}
		copy(a.n, bestN)
		D = R
		for j, n := range a.n {
			D -= float64(n) * a.c[j]
		}
	}
}

// pickAttn returns the attention type to move one unit by dir (+1: remove
// one more, -1: keep one more) whose continuous share x is furthest that
// way from its rounded count, or -1 if none can move.
func (a *Allocator) pickAttn(dir int) int {
	best := -1
	for j := 0; j < len(a.n); j += 2 {
		if k := a.n[j] + dir; k < 0 || k > int(a.cap[j]) {
			continue
		}
		if best < 0 || float64(dir)*(a.x[j]-float64(a.n[j])) > float64(dir)*(a.x[best]-float64(a.n[best])) {
			best = j
		}
	}
	return best
}

// settle moves single units of types cheaper than below in n, the move
// that brings the removed parameters closest to the budget first, while
// one brings them strictly closer; each move lowers |D|, so it ends. It
// returns the new D.
func (a *Allocator) settle(n []int, D, below float64) float64 {
	for {
		best, bestD := -1, math.Abs(D)*(1-1e-12)
		add := false
		for _, j := range a.order {
			if a.c[j] >= below {
				continue
			}
			if n[j] < int(a.cap[j]) && math.Abs(D-a.c[j]) < bestD {
				best, bestD, add = j, math.Abs(D-a.c[j]), true
			}
			if n[j] > 0 && math.Abs(D+a.c[j]) < bestD {
				best, bestD, add = j, math.Abs(D+a.c[j]), false
			}
		}
		if best < 0 {
			return D
		}
		if add {
			n[best]++
			D -= a.c[best]
		} else {
			n[best]--
			D += a.c[best]
		}
	}
}

func minCost(c []float64) float64 {
	m := math.Inf(1)
	for _, v := range c {
		if v > 0 {
			m = min(m, v)
		}
	}
	return m
}

// SamplePolicies draws n policies for building a dataset: ratios uniform
// in [ratioMin, ratioMax] (capped at MaxRatio), each allocated with
// random weights exp(σ·z) per unit type, z standard normal plus one
// shared shift for all attention units (so the attention/MLP balance
// varies too), and σ uniform in [0, spread] per policy, so the set mixes
// near-uniform policies with very uneven ones. spread 1.5 covers the
// allocations an agent with logits bounded by ±3 explores. The same seed
// gives the same policies.
func (s Space) SamplePolicies(n int, ratioMin, ratioMax, spread float64, seed uint64) ([]Policy, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	hi := min(ratioMax, s.MaxRatio())
	if !(ratioMin >= 0 && ratioMin <= hi) || !(spread >= 0) {
		return nil, fmt.Errorf("%w: ratios [%v, %v] must lie within [0, %.4g] (this model's maximum) with the smaller first, and spread %v must not be negative",
			ErrUnreachable, ratioMin, ratioMax, s.MaxRatio(), spread)
	}
	rng := rand.New(rand.NewPCG(seed, 0x73616d706c65)) // "sample"
	a := newAllocator(s)
	w := make([]float64, 2*len(s.Layers))
	out := make([]Policy, n)
	for k := range out {
		ratio := ratioMin + (hi-ratioMin)*rng.Float64()
		sigma := spread * rng.Float64()
		shift := sigma * rng.NormFloat64()
		for j := range w {
			w[j] = math.Exp(sigma * rng.NormFloat64())
			if j%2 == 0 {
				w[j] *= math.Exp(shift)
			}
		}
		out[k] = Policy{Layers: make([]LayerPolicy, len(s.Layers))}
		if err := a.Allocate(ratio, w, out[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
