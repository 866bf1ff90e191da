package agent

import (
	"context"
	"fmt"
	"math"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Config sets the agent's network and its training (PPO with
// group-relative advantages; see the package comment).
type Config struct {
	RatioMin float64 `json:"ratio_min"` // the trained range of global ratios
	RatioMax float64 `json:"ratio_max"`

	Hidden   int     `json:"hidden"`    // tanh units between the ratio and the logits
	MaxLogit float64 `json:"max_logit"` // logits are bounded by ±MaxLogit: a unit type's share of the budget stays within e^±MaxLogit of uniform

	Steps           int     `json:"steps"`             // updates
	RatiosPerStep   int     `json:"ratios_per_step"`   // ratios drawn per update, one per equal slice of the range
	SamplesPerRatio int     `json:"samples_per_ratio"` // policies sampled at each ratio; advantages are relative to this group
	Epochs          int     `json:"epochs"`            // PPO passes over each batch
	Clip            float64 `json:"clip"`              // PPO's probability-ratio clip ε
	LearningRate    float64 `json:"learning_rate"`     // Adam's step size
	InitStd         float64 `json:"init_std"`          // exploration: initial deviation of the logits
	MinStd          float64 `json:"min_std"`           // exploration never falls below this deviation
	EvalEvery       int     `json:"eval_every"`        // every this many updates, score the agent on a fixed grid of 8 ratios; the best weights are kept (0: keep the last)
	Seed            uint64  `json:"seed"`              // the same seed, space and scorer give the same agent

	// Progress, when not nil, is called after every update.
	Progress func(s Step) `json:"-"`
}

// DefaultConfig returns the settings measured in the package comment:
// ratios 0.05 to 0.7, 400 updates of 16 ratios × 8 policies.
func DefaultConfig() Config {
	return Config{RatioMin: 0.05, RatioMax: 0.7, Hidden: 32, MaxLogit: 3,
		Steps: 400, RatiosPerStep: 16, SamplesPerRatio: 8, Epochs: 4, Clip: 0.2,
		LearningRate: 0.003, InitStd: 0.5, MinStd: 0.05, EvalEvery: 10, Seed: 1}
}

func (c Config) check(s predictor.Space) error {
	if !(c.RatioMin >= 0 && c.RatioMin <= c.RatioMax && c.RatioMax < 1) {
		return fmt.Errorf("ratio range [%v, %v]: want 0 <= min <= max < 1", c.RatioMin, c.RatioMax)
	}
	if m := s.MaxRatio(); c.RatioMax > m {
		return fmt.Errorf("%w: ratio range up to %v, but model %q can lose at most %.4g with its minimums; lower RatioMax",
			predictor.ErrUnreachable, c.RatioMax, s.ModelID, m)
	}
	if c.Hidden < 1 || c.Hidden > predictor.MaxDim {
		return fmt.Errorf("agent config: config.hidden is %d: the hidden width must be from 1 to %d; start from DefaultConfig()", c.Hidden, predictor.MaxDim)
	}
	if !(c.MaxLogit > 0) || c.Steps < 0 || c.EvalEvery < 0 || c.RatiosPerStep < 1 || c.SamplesPerRatio < 2 || c.Epochs < 1 ||
		!(c.Clip > 0) || !(c.LearningRate > 0) || !(c.InitStd > 0) || !(c.MinStd > 0) {
		return fmt.Errorf("agent config %+v: sizes and rates must be positive and samples per ratio at least 2; start from DefaultConfig()", c)
	}
	return nil
}

// Step is one point of the training curve.
type Step struct {
	Step       int          `json:"step"`
	MeanReward float64      `json:"mean_reward"` // mean of -score over the sampled policies
	Gain       float64      `json:"gain"`        // mean over the step's ratios of uniform score - score of the agent's (mean) policy
	MeanStd    float64      `json:"mean_std"`    // mean exploration deviation of the logits
	Evaluated  bool         `json:"evaluated"`   // GridGain was measured at this step
	GridGain   float64      `json:"grid_gain"`   // mean gain over uniform on the fixed grid of ratios
	Kept       bool         `json:"kept"`        // the best grid gain so far: these weights are the agent's
	Buckets    []BucketStep `json:"buckets"`     // the same per ratio bucket of width 0.1
}

// BucketStep is a Step's figures for the ratios in [Lo, Hi).
type BucketStep struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	N          int     `json:"n"` // ratios drawn in the bucket
	MeanReward float64 `json:"mean_reward"`
	Gain       float64 `json:"gain"`
}

// sampled is one policy drawn during a step.
type sampled struct {
	u, ratio float64
	z        []float64 // logits
	logp     float64   // under the policy that drew it
	adv      float64
}

// Train trains an agent for space s against scorer (usually the
// predictor trained for s). It is deterministic for a config, space and
// deterministic scorer, and stops when ctx is cancelled, returning ctx's
// error.
//
// Each update samples (one ratio per slice of the range, SamplesPerRatio
// policies around the agent's means at each, scored), improves the
// network by PPO on that batch, then judges the agent on a fixed grid of
// ratios every EvalEvery updates, keeping the best weights.
func Train(ctx context.Context, s predictor.Space, scorer Scorer, cfg Config) (*Agent, error) {
	t, err := newTrainer(s, scorer, cfg)
	if err != nil {
		return nil, err
	}
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := t.sample(step)
		if err != nil {
			return nil, err
		}
		t.update(step)
		if err := t.judge(&st); err != nil {
			return nil, err
		}
		t.a.curve = append(t.a.curve, st)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
	}
	if cfg.EvalEvery > 0 && cfg.Steps > 0 {
		copy(t.n.params, t.best)
	}
	t.a.cfg.Progress = nil
	return t.a, nil
}

func meanStd(x []float64) (mean, sd float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(x)))
}
