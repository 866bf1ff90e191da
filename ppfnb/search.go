package ppfnb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Start is a policy a search starts from: the agent's, a baseline's.
type Start struct {
	Name   string           `json:"name"`
	Policy predictor.Policy `json:"policy"`
}

// BaselineStarts are the heuristics' allocations at ratio with the
// evaluator's units (uniform, OWL, FLAP and a random one drawn with seed):
// the starts every search of the pipeline, the duel and ppf search
// begins from, besides the agent's policy where there is one.
func (e *Evaluator) BaselineStarts(ratio float64, seed uint64) ([]Start, error) {
	var starts []Start
	for _, m := range baselineMethods {
		p, err := e.BaselinePolicy(m, ratio, seed)
		if err != nil {
			return nil, err
		}
		starts = append(starts, Start{Name: m, Policy: p})
	}
	return starts, nil
}

// SearchOptions sets Search. Zero values take the defaults in brackets.
type SearchOptions struct {
	Ratio float64 // the fixed global ratio every candidate removes

	Rounds      int // active-learning rounds [4]
	Population  int // policies kept between generations [32]
	Offspring   int // children scored per generation [64]
	Generations int // generations per round, on the predictor [30]
	Verify      int // best unmeasured candidates measured for real per round [8]
	Seed        uint64

	// Screen > 0 puts a cheap real stage between the predictor and the
	// full measurement, as EvoPress's multi-step selection does: each
	// round the Screen best unmeasured candidates are run on
	// ScreenWindows random windows of the search slice [2], and only the
	// Verify best of them are measured on the whole slice.
	Screen, ScreenWindows int
	// Budget > 0 stops the search before a real evaluation that would
	// take its spend past Budget tokens.
	Budget int64

	// Train refits the predictor after each round on the dataset plus
	// every measurement of the search; zero means
	// predictor.DefaultTrainConfig(). NoRefit keeps the predictor as given.
	Train   predictor.TrainConfig
	NoRefit bool
	// Local > 0 refits only on the dataset's records within Local of the
	// search's ratio (and every measurement of the search): a predictor
	// of the region searched, not of every ratio.
	Local float64

	Log      func(msg string)      `json:"-"`
	Progress func(done, total int) `json:"-"` // real measurements, done and planned
	// Measured, when not nil, is called after each candidate measured on
	// the whole slice with what the search has spent and the incumbent:
	// the duel's anytime curves follow it.
	Measured func(spent Ledger, best Candidate) `json:"-"`
}

// DefaultSearch returns the options a zero SearchOptions stands for.
func DefaultSearch() SearchOptions { return SearchOptions{}.withDefaults() }

func (o SearchOptions) withDefaults() SearchOptions {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Rounds, 4)
	def(&o.Population, 32)
	def(&o.Offspring, 64)
	def(&o.Generations, 30)
	def(&o.Verify, 8)
	def(&o.ScreenWindows, 2)
	if o.Train.MaxEpochs == 0 {
		o.Train = predictor.DefaultTrainConfig()
	}
	return o
}

// Candidate is a policy a search measured for real.
type Candidate struct {
	Source     string           `json:"source"` // "start:flap", "search"
	Policy     predictor.Policy `json:"policy"`
	Achieved   float64          `json:"achieved"`            // its global ratio
	Predicted  float64          `json:"predicted,omitempty"` // the predictor's perplexity when it was chosen (0 for starts)
	Perplexity float64          `json:"perplexity"`          // measured on the search slice
	Round      int              `json:"round"`               // 0 for starts
}

// SearchRound summarises one round.
type SearchRound struct {
	Round    int     `json:"round"`
	Verified int     `json:"verified"`
	Best     float64 `json:"best"`     // best measured perplexity after the round
	Improved bool    `json:"improved"` // the round found a better policy
	// Spearman of predicted against measured perplexity over the round's
	// verified candidates: how well the predictor ranks near the optimum.
	Spearman float64 `json:"spearman"`
}

// SearchResult is what Search found.
type SearchResult struct {
	Ratio     float64       `json:"ratio"`
	Best      Candidate     `json:"best"`       // the best measured policy: never worse than BestStart
	BestStart Candidate     `json:"best_start"` // the best of the starts, measured
	Starts    []Candidate   `json:"starts"`
	Verified  []Candidate   `json:"verified"`
	Rounds    []SearchRound `json:"rounds"`
	Seconds   float64       `json:"seconds"`
	Spent     Ledger        `json:"spent"` // real evaluations (starts included), predictor scores and refits

	// Records are every real measurement of the search (starts included),
	// ready to add to the dataset; Predictor is the last refit (the one
	// given when none was made).
	Records   predictor.Dataset    `json:"-"`
	Predictor *predictor.Predictor `json:"-"`
}

// Search looks for the best policy at one fixed ratio (static pruning):
//
//  1. Measure every start for real on the search slice; the best is the
//     incumbent.
//  2. Each round, evolve a population on the predictor (no model runs):
//     it starts from the best measured policies; each generation, parents
//     picked by 2-way tournament on predicted log-perplexity get 1 to 3
//     budget-keeping mutations (EvoPress's: units moved between layers,
//     between attention and MLP, or a jittered reallocation with
//     predictor.Allocator), and the best Population of parents and
//     children survive.
//  3. Measure the Verify best candidates never measured; one that beats
//     the incumbent replaces it.
//  4. Add the measurements to the data and refit the predictor (active
//     learning: its errors near the optimum are exactly the points just
//     measured), and go again.
//
// Only measured policies are ever returned, and the incumbent changes
// only for a measured improvement, so the result is never worse on the
// search slice than the best start. data is the predictor's training set
// (used for refits); pr is not modified.
func Search(ctx context.Context, e *Evaluator, pr *predictor.Predictor, data predictor.Dataset, starts []Start, opt SearchOptions) (*SearchResult, error) {
	start := time.Now()
	opt = opt.withDefaults()
	if err := pr.Check(e.Space); err != nil {
		return nil, err
	}
	mu, err := checkStarts(e.Space, starts, opt.Ratio)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Ratio: opt.Ratio, Predictor: pr}
	rng := rand.New(rand.NewPCG(opt.Seed, math.Float64bits(opt.Ratio)))
	measured := map[string]Candidate{}
	total := len(starts) + opt.Rounds*opt.Verify
	n, seqLen := e.SearchWindows()
	// charge refuses an evaluation of windows that would pass the budget.
	charge := func(windows int) error { return res.Spent.charge(int64(windows*seqLen), opt.Budget) }
	measure := func(p predictor.Policy, source string, predicted float64, round int) (Candidate, error) {
		key := policyKey(p)
		if c, ok := measured[key]; ok {
			return c, nil
		}
		if err := charge(n); err != nil {
			return Candidate{}, err
		}
		rec, err := e.Record(ctx, p, source)
		if err != nil {
			return Candidate{}, err
		}
		c := Candidate{Source: source, Policy: p, Achieved: rec.Ratio, Predicted: predicted, Perplexity: rec.Perplexity, Round: round}
		measured[key] = c
		res.Records = append(res.Records, rec)
		if opt.Progress != nil {
			opt.Progress(len(res.Records), total)
		}
		return c, nil
	}
	for i, s := range starts {
		c, err := measure(s.Policy, "start:"+s.Name, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", s.Name, err)
		}
		c.Source = "start:" + s.Name // a start equal to an earlier one keeps its own name
		res.Starts = append(res.Starts, c)
		if i == 0 || c.Perplexity < res.BestStart.Perplexity {
			res.BestStart = c
		}
		if opt.Measured != nil {
			opt.Measured(res.Spent, res.BestStart)
		}
	}
	res.Best = res.BestStart

	train := slices.Clone(data)
	if opt.Local > 0 {
		train = slices.DeleteFunc(train, func(r predictor.Record) bool { return math.Abs(r.Ratio-opt.Ratio) > opt.Local })
	}
	for round := 1; round <= opt.Rounds; round++ {
		archive, err := evolve(rng, mu, res.Predictor, measured, opt)
		if err != nil {
			return nil, err
		}
		res.Spent.PredictorCalls += int64(len(archive))
		picks, err := screen(ctx, e, rng, archive, measured, opt, charge)
		sr := SearchRound{Round: round}
		var pred, meas []float64
		for _, a := range picks {
			if err != nil {
				break
			}
			var c Candidate
			if c, err = measure(a.p, "search", math.Exp(a.score), round); err != nil {
				break
			}
			res.Verified = append(res.Verified, c)
			pred, meas = append(pred, a.score), append(meas, math.Log(c.Perplexity))
			sr.Verified++
			if c.Perplexity < res.Best.Perplexity {
				res.Best, sr.Improved = c, true
			}
			if opt.Measured != nil {
				opt.Measured(res.Spent, res.Best)
			}
		}
		if err != nil && !errors.Is(err, errBudget) {
			return nil, err
		}
		sr.Best, sr.Spearman = res.Best.Perplexity, nanToZero(predictor.Spearman(pred, meas))
		res.Rounds = append(res.Rounds, sr)
		if opt.Log != nil {
			opt.Log(fmt.Sprintf("search %.2f round %d: %d measured, best %.4f (%s), predicted-vs-measured Spearman %.2f",
				opt.Ratio, round, sr.Verified, res.Best.Perplexity, res.Best.Source, sr.Spearman))
		}
		if err != nil || sr.Verified == 0 { // the budget is spent, or the predictor proposes nothing new
			break
		}
		if round < opt.Rounds && !opt.NoRefit && sr.Verified > 0 {
			cfg := opt.Train
			cfg.Progress = nil
			refit, err := predictor.Train(ctx, e.Space, append(train, res.Records...), cfg)
			if err != nil {
				return nil, fmt.Errorf("refit after round %d: %w", round, err)
			}
			res.Predictor = refit
			res.Spent.Refits++
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// screen returns the candidates of a round to measure on the whole
// slice: the Verify best unmeasured ones by the predictor or, with
// opt.Screen, the Verify best by perplexity on ScreenWindows random
// windows among the Screen best by the predictor. Its error is errBudget
// when the budget ran out while screening.
func screen(ctx context.Context, e *Evaluator, rng *rand.Rand, archive []scored, measured map[string]Candidate, opt SearchOptions, charge func(windows int) error) ([]scored, error) {
	want := opt.Verify
	if opt.Screen > 0 {
		want = opt.Screen
	}
	var picks []scored
	for _, a := range archive {
		if len(picks) == want {
			break
		}
		if _, ok := measured[a.key]; !ok {
			picks = append(picks, a)
		}
	}
	if opt.Screen <= 0 || len(picks) <= opt.Verify {
		return picks, nil
	}
	n, _ := e.SearchWindows()
	windows := drawWindows(rng, n, opt.ScreenWindows)
	fit := make([]float64, len(picks))
	for i, a := range picks {
		if err := charge(len(windows)); err != nil {
			return nil, err
		}
		v, err := e.Fitness(ctx, a.p, FitnessPPL, windows)
		if err != nil {
			return nil, err
		}
		fit[i] = v
	}
	idx := make([]int, len(picks))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(fit[a], fit[b]) })
	out := make([]scored, opt.Verify)
	for i := range out {
		out[i] = picks[idx[i]]
	}
	return out, nil
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// scored is a policy with its predicted log-perplexity.
type scored struct {
	p     predictor.Policy
	key   string
	score float64
}

// evolve runs one round's evolution on the predictor and returns every
// policy it scored, best first.
func evolve(rng *rand.Rand, mu *mutator, pr *predictor.Predictor, measured map[string]Candidate, opt SearchOptions) ([]scored, error) {
	archive := map[string]scored{}
	add := func(p predictor.Policy) (scored, bool, error) {
		key := policyKey(p)
		if s, ok := archive[key]; ok {
			return s, false, nil
		}
		y, err := pr.Score(p)
		if err != nil {
			return scored{}, false, err
		}
		s := scored{p: p, key: key, score: y}
		archive[key] = s
		return s, true, nil
	}
	// Seed the population with the best measured policies, in a fixed order.
	seeds := make([]Candidate, 0, len(measured))
	for _, c := range measured {
		seeds = append(seeds, c)
	}
	slices.SortFunc(seeds, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Perplexity, b.Perplexity), cmp.Compare(policyKey(a.Policy), policyKey(b.Policy)))
	})
	var pop []scored
	for _, c := range seeds[:min(len(seeds), opt.Population)] {
		s, _, err := add(c.Policy)
		if err != nil {
			return nil, err
		}
		pop = append(pop, s)
	}
	for tries := 0; len(pop) < opt.Population && tries < 20*opt.Population; tries++ {
		q, ok := mu.mutate(rng, pop[rng.IntN(len(pop))].p, opt.Ratio)
		if !ok {
			continue
		}
		if s, fresh, err := add(q); err != nil {
			return nil, err
		} else if fresh {
			pop = append(pop, s)
		}
	}
	byScore := func(a, b scored) int { return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.key, b.key)) }
	for range opt.Generations {
		next := slices.Clone(pop)
		for range opt.Offspring {
			a, b := pop[rng.IntN(len(pop))], pop[rng.IntN(len(pop))]
			if b.score < a.score {
				a = b
			}
			child := a.p
			for range 1 + rng.IntN(3) {
				child, _ = mu.mutate(rng, child, opt.Ratio)
			}
			if s, fresh, err := add(child); err != nil {
				return nil, err
			} else if fresh {
				next = append(next, s)
			}
		}
		slices.SortFunc(next, byScore)
		pop = next[:min(len(next), opt.Population)]
	}
	out := make([]scored, 0, len(archive))
	for _, s := range archive {
		out = append(out, s)
	}
	slices.SortFunc(out, byScore)
	return out, nil
}
