package predictor

import (
	"fmt"
	"math"
	"sync"
)

// Norm standardises the network's inputs and output: x' = (x-mean)/std.
type Norm struct {
	InMean    []float64 `json:"in_mean"` // per input channel: kept head fraction, kept MLP fraction, dropped
	InStd     []float64 `json:"in_std"`
	RatioMean float64   `json:"ratio_mean"`
	RatioStd  float64   `json:"ratio_std"`
	OutMean   float64   `json:"out_mean"` // of log-perplexity
	OutStd    float64   `json:"out_std"`
}

func (n Norm) check() error {
	if len(n.InMean) != inputChannels || len(n.InStd) != inputChannels {
		return fmt.Errorf("normalisation has %d means and %d deviations, want %d of each", len(n.InMean), len(n.InStd), inputChannels)
	}
	vals := append(append([]float64{n.RatioMean, n.RatioStd, n.OutMean, n.OutStd}, n.InMean...), n.InStd...)
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("normalisation holds %v", v)
		}
	}
	for _, s := range append([]float64{n.RatioStd, n.OutStd}, n.InStd...) {
		if s <= 0 {
			return fmt.Errorf("normalisation has a deviation of %v; deviations must be positive", s)
		}
	}
	return nil
}

// Predictor predicts the log-perplexity of a pruning policy of one model.
// Its methods are safe for concurrent use (scoring takes a lock: for
// parallel scoring give each goroutine its own copy from Clone).
type Predictor struct {
	space   Space
	params  float64 // s.Params()
	norm    Norm
	summary TrainSummary
	net     *net

	mu sync.Mutex
	w  *work
}

func newPredictor(s Space, arch Arch, norm Norm) (*Predictor, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := norm.check(); err != nil {
		return nil, err
	}
	n, err := newNet(arch, len(s.Layers))
	if err != nil {
		return nil, err
	}
	return &Predictor{space: s, params: float64(s.Params()), norm: norm, net: n, w: n.newWork()}, nil
}

// Space returns the pruning space the predictor was trained for.
func (p *Predictor) Space() Space { return p.space }

// Arch returns the network's architecture.
func (p *Predictor) Arch() Arch { return p.net.arch }

// Norm returns the input and output standardisation.
func (p *Predictor) Norm() Norm { return p.norm }

// Summary returns how the predictor was trained.
func (p *Predictor) Summary() TrainSummary { return p.summary }

// Clone returns an independent copy with its own buffers.
func (p *Predictor) Clone() *Predictor {
	n := *p.net
	n.params = append([]float64(nil), p.net.params...)
	n.v = n.layout(n.params)
	return &Predictor{space: p.space, params: p.params, norm: p.norm, summary: p.summary, net: &n, w: n.newWork()}
}

// Score returns the predicted log-perplexity of policy pol. It allocates
// nothing; a policy that does not fit the space is an error.
func (p *Predictor) Score(pol Policy) (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.scoreLocked(pol)
}

func (p *Predictor) scoreLocked(pol Policy) (float64, error) {
	if !p.fill(pol) {
		if err := p.space.ValidatePolicy(pol); err != nil {
			return 0, err
		}
		panic("predictor: fill refused a valid policy")
	}
	return p.net.forward(p.w)*p.norm.OutStd + p.norm.OutMean, nil
}

// ScoreBatch writes the predicted log-perplexity of each policy to out
// (which must be at least as long).
func (p *Predictor) ScoreBatch(pols []Policy, out []float64) error {
	if len(out) < len(pols) {
		return fmt.Errorf("ScoreBatch: out has room for %d scores, there are %d policies; pass make([]float64, len(pols))", len(out), len(pols))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, pol := range pols {
		y, err := p.scoreLocked(pol)
		if err != nil {
			return fmt.Errorf("policy %d: %w", i, err)
		}
		out[i] = y
	}
	return nil
}

// Perplexity returns the predicted perplexity of policy pol:
// exp(Score(pol)).
func (p *Predictor) Perplexity(pol Policy) (float64, error) {
	y, err := p.Score(pol)
	return math.Exp(y), err
}

// ScoreFractions predicts from kept fractions directly (heads and mlp
// per layer, in [0, 1]; a layer with both 0 counts as dropped) and the
// global ratio they amount to: for sliders and plots, where no exact
// policy exists.
func (p *Predictor) ScoreFractions(heads, mlp []float64, ratio float64) (float64, error) {
	L := len(p.space.Layers)
	if len(heads) != L || len(mlp) != L {
		return 0, fmt.Errorf("%w: %d head and %d MLP fractions for model %q of %d layers", ErrBadPolicy, len(heads), len(mlp), p.space.ModelID, L)
	}
	if !(ratio >= 0 && ratio <= 1) {
		return 0, fmt.Errorf("%w: ratio %v must lie in [0, 1]", ErrBadPolicy, ratio)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.net.input(p.w)
	for i := range L {
		h, m := heads[i], mlp[i]
		if !(h >= 0 && h <= 1 && m >= 0 && m <= 1) {
			return 0, fmt.Errorf("%w: layer %d kept fractions %v and %v must lie in [0, 1]", ErrBadPolicy, i, h, m)
		}
		d := 0.0
		if h == 0 && m == 0 {
			d = 1
		}
		p.setLayer(x, i, h, m, d)
	}
	p.net.setRatio(p.w, (ratio-p.norm.RatioMean)/p.norm.RatioStd)
	return p.net.forward(p.w)*p.norm.OutStd + p.norm.OutMean, nil
}

func (p *Predictor) setLayer(x []float64, i int, h, m, d float64) {
	n := p.norm
	x[3*i] = (h - n.InMean[0]) / n.InStd[0]
	x[3*i+1] = (m - n.InMean[1]) / n.InStd[1]
	x[3*i+2] = (d - n.InMean[2]) / n.InStd[2]
}

// fill writes pol's standardised features into the work buffers; false
// when pol does not fit the space.
func (p *Predictor) fill(pol Policy) bool {
	s := p.space
	if len(pol.Layers) != len(s.Layers) {
		return false
	}
	x := p.net.input(p.w)
	removed := 0
	for i, l := range s.Layers {
		lp := pol.Layers[i]
		if lp.Drop {
			if lp.HeadUnits != 0 || lp.MLPUnits != 0 {
				return false
			}
			p.setLayer(x, i, 0, 0, 1)
		} else {
			if lp.HeadUnits < l.MinHeadUnits || lp.HeadUnits > l.HeadUnits || lp.MLPUnits < l.MinMLPUnits || lp.MLPUnits > l.MLPUnits {
				return false
			}
			p.setLayer(x, i, frac(lp.HeadUnits, l.HeadUnits), frac(lp.MLPUnits, l.MLPUnits), 0)
		}
		removed += (l.HeadUnits-lp.HeadUnits)*l.HeadUnitCost + (l.MLPUnits-lp.MLPUnits)*l.MLPUnitCost
	}
	ratio := float64(removed) / p.params
	p.net.setRatio(p.w, (ratio-p.norm.RatioMean)/p.norm.RatioStd)
	return true
}

// Predict returns the predicted log-perplexity of every record of d,
// which must belong to the predictor's space.
func (p *Predictor) Predict(d Dataset) ([]float64, error) {
	out := make([]float64, len(d))
	for i, r := range d {
		if err := r.CheckSpace(p.space); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		y, err := p.Score(r.Policy)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		out[i] = y
	}
	return out, nil
}

// Evaluate compares the predictor with the measured records of test
// (held-out policies), overall and per ratio bucket of width bucketWidth
// (0 means 0.1).
func (p *Predictor) Evaluate(test Dataset, bucketWidth float64) (Report, error) {
	pred, err := p.Predict(test)
	if err != nil {
		return Report{}, err
	}
	return Compare(pred, test.LogPPL(), test.Ratios(), bucketWidth)
}
