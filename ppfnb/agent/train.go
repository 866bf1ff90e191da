package agent

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ppfkit/ppf/ppfnb/internal/adam"
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
func Train(ctx context.Context, s predictor.Space, scorer Scorer, cfg Config) (*Agent, error) {
	a, err := newAgent(s, cfg)
	if err != nil {
		return nil, err
	}
	n := a.net
	n.init(rand.New(rand.NewPCG(cfg.Seed, 0x6167656e74)), cfg.InitStd) // "agent"
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x70706f))                   // "ppo"
	minLogStd := math.Log(cfg.MinStd)
	K, D := cfg.SamplesPerRatio, n.D
	batch := make([]sampled, cfg.RatiosPerStep*K)
	for i := range batch {
		batch[i].z = make([]float64, D)
	}
	pol := predictor.Policy{Layers: make([]predictor.LayerPolicy, len(s.Layers))}
	w := make([]float64, D)
	rewards := make([]float64, K)
	grad := make([]float64, len(n.params))
	dmu, dh := make([]float64, D), make([]float64, n.H)
	p := n.newPass()
	var opt adam.Adam

	score := func(ratio float64, z []float64) (float64, error) {
		for j, v := range z {
			w[j] = math.Exp(v)
		}
		if err := a.alloc.Allocate(ratio, w, pol); err != nil {
			return 0, err
		}
		y, err := scorer.Score(pol)
		if err != nil {
			return 0, fmt.Errorf("scoring a policy at ratio %v: %w", ratio, err)
		}
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return 0, fmt.Errorf("the scorer gave %v for a policy at ratio %v; it must give finite log-perplexities", y, ratio)
		}
		return y, nil
	}

	// The fixed grid on which the agent is judged, and the uniform
	// policy's scores there.
	var grid, gridUni []float64
	if cfg.EvalEvery > 0 {
		for i := range 8 {
			r := cfg.RatioMin + (cfg.RatioMax-cfg.RatioMin)*(float64(i)+0.5)/8
			uni, err := s.Uniform(r)
			if err != nil {
				return nil, err
			}
			y, err := scorer.Score(uni)
			if err != nil {
				return nil, err
			}
			grid, gridUni = append(grid, r), append(gridUni, y)
		}
	}
	gridGain := func() (float64, error) {
		g := 0.0
		for i, r := range grid {
			n.forward(a.encode(r), p)
			y, err := score(r, p.mu)
			if err != nil {
				return 0, err
			}
			g += (gridUni[i] - y) / float64(len(grid))
		}
		return g, nil
	}
	best, bestGain := append([]float64(nil), n.params...), math.Inf(-1)

	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := Step{Step: step}
		buckets := map[int]*BucketStep{}
		// Sample: one ratio per slice of the range, K policies around
		// the current means at each.
		for r := range cfg.RatiosPerStep {
			ratio := cfg.RatioMin + (cfg.RatioMax-cfg.RatioMin)*(float64(r)+rng.Float64())/float64(cfg.RatiosPerStep)
			u := a.encode(ratio)
			n.forward(u, p)
			group := batch[r*K : (r+1)*K]
			for k := range group {
				sm := &group[k]
				sm.u, sm.ratio, sm.logp = u, ratio, 0
				for j := range D {
					sd := math.Exp(n.logStd[j])
					e := rng.NormFloat64()
					sm.z[j] = p.mu[j] + sd*e
					sm.logp += -0.5*e*e - n.logStd[j]
				}
				y, err := score(ratio, sm.z)
				if err != nil {
					return nil, err
				}
				rewards[k] = -y
			}
			// Group-relative advantages: the reward's standard score
			// among the policies of the same ratio.
			mean, sd := meanStd(rewards)
			for k := range group {
				group[k].adv = 0
				if sd > 1e-12 {
					group[k].adv = (rewards[k] - mean) / sd
				}
			}
			// The curve: the agent's mean policy against uniform.
			yMean, err := score(ratio, p.mu)
			if err != nil {
				return nil, err
			}
			uni, err := s.Uniform(ratio)
			if err != nil {
				return nil, err
			}
			yUni, err := scorer.Score(uni)
			if err != nil {
				return nil, err
			}
			st.MeanReward += mean / float64(cfg.RatiosPerStep)
			st.Gain += (yUni - yMean) / float64(cfg.RatiosPerStep)
			bi := int(math.Floor(ratio*10 + 1e-9))
			b := buckets[bi]
			if b == nil {
				b = &BucketStep{Lo: float64(bi) / 10, Hi: float64(bi+1) / 10}
				buckets[bi] = b
			}
			b.N++
			b.MeanReward += mean
			b.Gain += yUni - yMean
		}
		// PPO: maximise Σ min(ρA, clip(ρ, 1±ε)A) over the batch, ρ the
		// probability ratio of the new and the sampling policy.
		for range cfg.Epochs {
			clear(grad)
			_, _, _, _, glogStd := n.views(grad)
			lastU := math.NaN()
			for i := range batch {
				sm := &batch[i]
				if sm.adv == 0 {
					continue
				}
				if sm.u != lastU {
					n.forward(sm.u, p)
					lastU = sm.u
				}
				logp := 0.0
				for j := range D {
					e := (sm.z[j] - p.mu[j]) / math.Exp(n.logStd[j])
					logp += -0.5*e*e - n.logStd[j]
				}
				rho := math.Exp(logp - sm.logp)
				if (sm.adv > 0 && rho > 1+cfg.Clip) || (sm.adv < 0 && rho < 1-cfg.Clip) {
					continue // clipped: no gradient
				}
				// d(-ρA)/dlogp, averaged over the batch.
				g := -rho * sm.adv / float64(len(batch))
				for j := range D {
					inv := math.Exp(-n.logStd[j])
					e := (sm.z[j] - p.mu[j]) * inv
					dmu[j] = g * e * inv
					glogStd[j] += g * (e*e - 1)
				}
				n.backward(p, dmu, dh, grad)
			}
			// Cosine decay to a tenth of the rate over the updates.
			lr := cfg.LearningRate * (0.55 + 0.45*math.Cos(math.Pi*float64(step-1)/float64(max(cfg.Steps-1, 1))))
			opt.Step(n.params, grad, lr)
			for j := range n.logStd {
				n.logStd[j] = max(n.logStd[j], minLogStd)
			}
		}
		for _, v := range n.logStd {
			st.MeanStd += math.Exp(v) / float64(D)
		}
		for bi := range 11 {
			if b := buckets[bi]; b != nil {
				b.MeanReward /= float64(b.N)
				b.Gain /= float64(b.N)
				st.Buckets = append(st.Buckets, *b)
			}
		}
		if cfg.EvalEvery > 0 && (step%cfg.EvalEvery == 0 || step == cfg.Steps) {
			g, err := gridGain()
			if err != nil {
				return nil, err
			}
			st.Evaluated, st.GridGain = true, g
			if g > bestGain {
				bestGain, st.Kept = g, true
				copy(best, n.params)
			}
		}
		a.curve = append(a.curve, st)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
	}
	if cfg.EvalEvery > 0 && cfg.Steps > 0 {
		copy(n.params, best)
	}
	a.cfg.Progress = nil
	return a, nil
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
