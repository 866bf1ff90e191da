package agent

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ppfkit/ppf/ppfnb/internal/adam"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// trainer is Train's state between its steps: the agent, the scratch
// space of a batch, the optimiser, and the fixed grid the agent is judged
// on with the best weights so far.
type trainer struct {
	a      *Agent
	n      *policyNet
	s      predictor.Space
	scorer Scorer
	cfg    Config
	rng    *rand.Rand

	batch   []sampled
	pol     predictor.Policy
	w       []float64 // the allocation weights of a policy's logits
	rewards []float64 // of one ratio's group
	grad    []float64
	dmu, dh []float64
	p       *pass
	opt     adam.Adam

	grid, gridUni []float64 // the ratios the agent is judged on, and the uniform policy's scores there
	best          []float64 // the weights of the best grid gain so far
	bestGain      float64
}

func newTrainer(s predictor.Space, scorer Scorer, cfg Config) (*trainer, error) {
	a, err := newAgent(s, cfg)
	if err != nil {
		return nil, err
	}
	n := a.net
	n.init(rand.New(rand.NewPCG(cfg.Seed, 0x6167656e74)), cfg.InitStd) // "agent"
	t := &trainer{a: a, n: n, s: s, scorer: scorer, cfg: cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x70706f)), // "ppo"
		batch:   make([]sampled, cfg.RatiosPerStep*cfg.SamplesPerRatio),
		pol:     predictor.Policy{Layers: make([]predictor.LayerPolicy, len(s.Layers))},
		w:       make([]float64, n.D),
		rewards: make([]float64, cfg.SamplesPerRatio),
		grad:    make([]float64, len(n.params)),
		dmu:     make([]float64, n.D), dh: make([]float64, n.H),
		p: n.newPass(), bestGain: math.Inf(-1)}
	for i := range t.batch {
		t.batch[i].z = make([]float64, n.D)
	}
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
			t.grid, t.gridUni = append(t.grid, r), append(t.gridUni, y)
		}
	}
	t.best = append([]float64(nil), n.params...)
	return t, nil
}

// score is the scorer's log-perplexity of the policy that logits z
// allocate at ratio.
func (t *trainer) score(ratio float64, z []float64) (float64, error) {
	for j, v := range z {
		t.w[j] = math.Exp(v)
	}
	if err := t.a.alloc.Allocate(ratio, t.w, t.pol); err != nil {
		return 0, err
	}
	y, err := t.scorer.Score(t.pol)
	if err != nil {
		return 0, fmt.Errorf("scoring a policy at ratio %v: %w", ratio, err)
	}
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return 0, fmt.Errorf("the scorer gave %v for a policy at ratio %v; it must give finite log-perplexities", y, ratio)
	}
	return y, nil
}

// sample fills the batch: one ratio per slice of the range, K policies
// around the current means at each, scored, with group-relative
// advantages; the step's curve figures compare the mean policy with
// uniform.
func (t *trainer) sample(step int) (Step, error) {
	cfg, n, p, K := t.cfg, t.n, t.p, t.cfg.SamplesPerRatio
	st := Step{Step: step}
	buckets := map[int]*BucketStep{}
	for r := range cfg.RatiosPerStep {
		ratio := cfg.RatioMin + (cfg.RatioMax-cfg.RatioMin)*(float64(r)+t.rng.Float64())/float64(cfg.RatiosPerStep)
		u := t.a.encode(ratio)
		n.forward(u, p)
		group := t.batch[r*K : (r+1)*K]
		for k := range group {
			sm := &group[k]
			sm.u, sm.ratio, sm.logp = u, ratio, 0
			for j := range n.D {
				sd := math.Exp(n.logStd[j])
				e := t.rng.NormFloat64()
				sm.z[j] = p.mu[j] + sd*e
				sm.logp += -0.5*e*e - n.logStd[j]
			}
			y, err := t.score(ratio, sm.z)
			if err != nil {
				return st, err
			}
			t.rewards[k] = -y
		}
		// Group-relative advantages: the reward's standard score among
		// the policies of the same ratio.
		mean, sd := meanStd(t.rewards)
		for k := range group {
			group[k].adv = 0
			if sd > 1e-12 {
				group[k].adv = (t.rewards[k] - mean) / sd
			}
		}
		yMean, err := t.score(ratio, p.mu)
		if err != nil {
			return st, err
		}
		uni, err := t.s.Uniform(ratio)
		if err != nil {
			return st, err
		}
		yUni, err := t.scorer.Score(uni)
		if err != nil {
			return st, err
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
	for bi := range 11 {
		if b := buckets[bi]; b != nil {
			b.MeanReward /= float64(b.N)
			b.Gain /= float64(b.N)
			st.Buckets = append(st.Buckets, *b)
		}
	}
	return st, nil
}

// update is PPO on the batch: maximise Σ min(ρA, clip(ρ, 1±ε)A), ρ the
// probability ratio of the new and the sampling policy, for Epochs
// passes.
func (t *trainer) update(step int) {
	cfg, n, p := t.cfg, t.n, t.p
	minLogStd := math.Log(cfg.MinStd)
	for range cfg.Epochs {
		clear(t.grad)
		_, _, _, _, glogStd := n.views(t.grad)
		lastU := math.NaN()
		for i := range t.batch {
			sm := &t.batch[i]
			if sm.adv == 0 {
				continue
			}
			if sm.u != lastU {
				n.forward(sm.u, p)
				lastU = sm.u
			}
			logp := 0.0
			for j := range n.D {
				e := (sm.z[j] - p.mu[j]) / math.Exp(n.logStd[j])
				logp += -0.5*e*e - n.logStd[j]
			}
			rho := math.Exp(logp - sm.logp)
			if (sm.adv > 0 && rho > 1+cfg.Clip) || (sm.adv < 0 && rho < 1-cfg.Clip) {
				continue // clipped: no gradient
			}
			// d(-ρA)/dlogp, averaged over the batch.
			g := -rho * sm.adv / float64(len(t.batch))
			for j := range n.D {
				inv := math.Exp(-n.logStd[j])
				e := (sm.z[j] - p.mu[j]) * inv
				t.dmu[j] = g * e * inv
				glogStd[j] += g * (e*e - 1)
			}
			n.backward(p, t.dmu, t.dh, t.grad)
		}
		// Cosine decay to a tenth of the rate over the updates.
		lr := cfg.LearningRate * (0.55 + 0.45*math.Cos(math.Pi*float64(step-1)/float64(max(cfg.Steps-1, 1))))
		t.opt.Step(n.params, t.grad, lr)
		for j := range n.logStd {
			n.logStd[j] = max(n.logStd[j], minLogStd)
		}
	}
}

// judge completes the step's figures: the exploration left and, every
// EvalEvery updates and at the last, the mean gain over uniform on the
// fixed grid, keeping the weights when it is the best so far.
func (t *trainer) judge(st *Step) error {
	for _, v := range t.n.logStd {
		st.MeanStd += math.Exp(v) / float64(t.n.D)
	}
	if t.cfg.EvalEvery == 0 || (st.Step%t.cfg.EvalEvery != 0 && st.Step != t.cfg.Steps) {
		return nil
	}
	g := 0.0
	for i, r := range t.grid {
		t.n.forward(t.a.encode(r), t.p)
		y, err := t.score(r, t.p.mu)
		if err != nil {
			return err
		}
		g += (t.gridUni[i] - y) / float64(len(t.grid))
	}
	st.Evaluated, st.GridGain = true, g
	if g > t.bestGain {
		t.bestGain, st.Kept = g, true
		copy(t.best, t.n.params)
	}
	return nil
}
