package agent

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// ErrOutOfRange is wrapped when a ratio outside the agent's trained range
// is asked for.
var ErrOutOfRange = errors.New("ratio outside the agent's trained range")

// Scorer predicts the log-perplexity of a policy: lower is better.
// *predictor.Predictor and *predictor.Synthetic are Scorers; wrap a
// function with ScoreFunc.
type Scorer interface {
	Score(p predictor.Policy) (float64, error)
}

// ScoreFunc turns a function into a Scorer.
type ScoreFunc func(p predictor.Policy) (float64, error)

// Score calls f.
func (f ScoreFunc) Score(p predictor.Policy) (float64, error) { return f(p) }

// Agent emits a layer-wise pruning policy for any ratio of its trained
// range. Its methods are safe for concurrent use.
type Agent struct {
	space predictor.Space
	cfg   Config
	net   *policyNet
	curve []Step

	mu    sync.Mutex
	pass  *pass
	alloc *predictor.Allocator
	w     []float64
}

func newAgent(s predictor.Space, cfg Config) (*Agent, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.check(s); err != nil {
		return nil, err
	}
	n := newPolicyNet(cfg.Hidden, 2*len(s.Layers), cfg.MaxLogit)
	return &Agent{space: s, cfg: cfg, net: n, pass: n.newPass(), alloc: predictor.NewAllocator(s), w: make([]float64, n.D)}, nil
}

// Space returns the pruning space the agent was trained for.
func (a *Agent) Space() predictor.Space { return a.space }

// Config returns the settings the agent was trained with.
func (a *Agent) Config() Config { return a.cfg }

// Range returns the ratios the agent was trained for.
func (a *Agent) Range() (lo, hi float64) { return a.cfg.RatioMin, a.cfg.RatioMax }

// Curve returns the training curve: one Step per update.
func (a *Agent) Curve() []Step { return a.curve }

// Policy returns the agent's policy for ratio: the mean of its
// allocation logits at that ratio, projected onto the budget (see
// predictor.Space.Allocate), so it removes ratio of the prunable
// parameters within half a unit. A ratio outside the trained range is an
// error wrapping ErrOutOfRange.
func (a *Agent) Policy(ratio float64) (predictor.Policy, error) {
	p := predictor.Policy{Layers: make([]predictor.LayerPolicy, len(a.space.Layers))}
	return p, a.PolicyInto(ratio, p)
}

// PolicyInto is Policy writing into p (one entry per layer), allocating
// nothing.
func (a *Agent) PolicyInto(ratio float64, p predictor.Policy) error {
	if err := a.checkRatio(ratio); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.net.forward(a.encode(ratio), a.pass)
	for j, m := range a.pass.mu {
		a.w[j] = math.Exp(m)
	}
	return a.alloc.Allocate(ratio, a.w, p)
}

// Logits returns the agent's allocation logits at ratio: layer l's
// attention gets a share of the removal budget e^logits[2l] times the
// uniform one, its MLP e^logits[2l+1] (before the minimums cap them).
func (a *Agent) Logits(ratio float64) ([]float64, error) {
	if err := a.checkRatio(ratio); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.net.forward(a.encode(ratio), a.pass)
	return append([]float64(nil), a.pass.mu...), nil
}

func (a *Agent) checkRatio(ratio float64) error {
	lo, hi := a.cfg.RatioMin, a.cfg.RatioMax
	if !(ratio >= lo-1e-9 && ratio <= hi+1e-9) {
		return fmt.Errorf("%w: ratio %v, trained for [%v, %v]; ask within it or train an agent over a range that includes it",
			ErrOutOfRange, ratio, lo, hi)
	}
	return nil
}

// encode maps a ratio of the trained range onto [-1, 1].
func (a *Agent) encode(ratio float64) float64 {
	lo, hi := a.cfg.RatioMin, a.cfg.RatioMax
	if hi == lo {
		return 0
	}
	return min(max(2*(ratio-lo)/(hi-lo)-1, -1), 1)
}

// Result compares the agent's policy at one ratio with the uniform one.
type Result struct {
	Ratio        float64          `json:"ratio"`         // asked for
	Achieved     float64          `json:"achieved"`      // removed by the agent's policy
	Score        float64          `json:"score"`         // the agent's policy's predicted log-perplexity
	UniformScore float64          `json:"uniform_score"` // the uniform policy's
	Gain         float64          `json:"gain"`          // UniformScore - Score: positive when the agent is better
	Policy       predictor.Policy `json:"policy"`
}

// Versus scores the agent's policy and the uniform one at each ratio
// with scorer (the predictor, or a real measurement wrapped in
// ScoreFunc).
func (a *Agent) Versus(scorer Scorer, ratios []float64) ([]Result, error) {
	out := make([]Result, len(ratios))
	for i, r := range ratios {
		p, err := a.Policy(r)
		if err != nil {
			return nil, err
		}
		u, err := a.space.Uniform(r)
		if err != nil {
			return nil, err
		}
		ys, err := scorer.Score(p)
		if err != nil {
			return nil, err
		}
		yu, err := scorer.Score(u)
		if err != nil {
			return nil, err
		}
		out[i] = Result{Ratio: r, Achieved: a.space.Ratio(p), Score: ys, UniformScore: yu, Gain: yu - ys, Policy: p}
	}
	return out, nil
}
