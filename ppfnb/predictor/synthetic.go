package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Synthetic is a made-up "true" log-perplexity of a policy, with the
// traits that make real ones hard: layers of very different sensitivity
// (the first and last layers most), attention and MLP of different
// sensitivity, a convex cost of removing more of a layer, interactions
// between neighbouring layers and between a layer's attention and MLP,
// and losses that compound. It stands in for measurements in tests, in
// benchmarks of the predictor, and in notebooks that teach the method
// without a model.
//
// With x the removed fraction of a unit type and f(x) = x + 3x³:
//
//	S = Σ_l HeadSens[l]·f(xh_l) + MLPSens[l]·f(xm_l)
//	    + Interaction·Σ_l (xh_l·xm_l + xm_l·xm_{l+1})
//	    + DropPenalty[l] for each dropped layer
//	log-perplexity = Base + S + Compound·S²
type Synthetic struct {
	Space       Space     `json:"space"`
	Base        float64   `json:"base"` // log-perplexity of the dense model
	HeadSens    []float64 `json:"head_sens"`
	MLPSens     []float64 `json:"mlp_sens"`
	DropPenalty []float64 `json:"drop_penalty"`
	Interaction float64   `json:"interaction"`
	Compound    float64   `json:"compound"`
	Noise       float64   `json:"noise"` // deviation of the Gaussian noise Dataset adds to log-perplexity ("measurement" noise)
}

// NewSynthetic returns a synthetic task for s: dense log-perplexity 1.75
// (stories260K's on TinyStories), sensitivities that fall from the first
// layer, rise again at the last, jittered by ±30% from seed, and scaled
// by 5/L so that the totals do not grow with depth; noise 0.01.
func NewSynthetic(s Space, seed uint64) (*Synthetic, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x73796e7468)) // "synth"
	L := len(s.Layers)
	y := &Synthetic{Space: s, Base: 1.75, HeadSens: make([]float64, L), MLPSens: make([]float64, L), DropPenalty: make([]float64, L),
		Interaction: 0.15 * 5 / float64(L), Compound: 0.05, Noise: 0.01}
	for l := range L {
		t := float64(l) / float64(max(L-1, 1))
		shape := (1 + 3*math.Exp(-t/0.15) + 2*math.Exp(-(1-t)/0.1)) * 5 / float64(L)
		y.HeadSens[l] = 0.075 * shape * (0.7 + 0.6*rng.Float64())
		y.MLPSens[l] = 0.125 * shape * (0.7 + 0.6*rng.Float64())
		y.DropPenalty[l] = 0.1 * shape
	}
	return y, nil
}

// LogPPL returns the noise-free log-perplexity of p, which must fit the
// space.
func (y *Synthetic) LogPPL(p Policy) (float64, error) {
	s := y.Space
	if err := s.ValidatePolicy(p); err != nil {
		return 0, err
	}
	f := func(x float64) float64 { return x + 3*x*x*x }
	L := len(s.Layers)
	var S float64
	prevM := 0.0
	for l := range L {
		lp, ls := p.Layers[l], s.Layers[l]
		xh, xm := 1-frac(lp.HeadUnits, ls.HeadUnits), 1-frac(lp.MLPUnits, ls.MLPUnits)
		if lp.Drop {
			xh, xm = 1, 1
			S += y.DropPenalty[l]
		}
		S += y.HeadSens[l]*f(xh) + y.MLPSens[l]*f(xm)
		S += y.Interaction * (xh*xm + xm*prevM)
		prevM = xm
	}
	return y.Base + S + y.Compound*S*S, nil
}

// Score is LogPPL: the synthetic task can stand in for a trained
// predictor wherever one is scored (the agent's training, say).
func (y *Synthetic) Score(p Policy) (float64, error) { return y.LogPPL(p) }

// Dataset returns n records of policies drawn as SamplePolicies does,
// "measured" by LogPPL plus Gaussian noise of deviation Noise (from
// seed), with source "synthetic".
func (y *Synthetic) Dataset(n int, ratioMin, ratioMax, spread float64, seed uint64) (Dataset, error) {
	pols, err := y.Space.SamplePolicies(n, ratioMin, ratioMax, spread, seed)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365)) // "noise"
	d := make(Dataset, n)
	for i, p := range pols {
		lp, err := y.LogPPL(p)
		if err != nil {
			return nil, err
		}
		lp += y.Noise * rng.NormFloat64()
		if d[i], err = NewRecord(y.Space, p, math.Exp(lp), lp, 15300, 0, "synthetic"); err != nil {
			return nil, fmt.Errorf("synthetic record %d: %w", i, err)
		}
	}
	return d, nil
}
