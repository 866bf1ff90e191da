package ppfnb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// RandomSearchOptions sets RandomSearch.
type RandomSearchOptions struct {
	Ratio   float64
	Fitness string // FitnessKL [default] or FitnessPPL
	Budget  int64  // tokens of real evaluations to spend; 0: Samples
	Samples int    // policies at most; 0: until the budget is spent
	Seed    uint64
}

// RandomSearch measures random policies at one ratio on the whole search
// slice and keeps the best: the floor any search with real evaluations
// must clear. The starts are measured first; then, as collection draws
// its samples, half the policies are a random start after 1 to 5
// budget-keeping moves, half come from predictor.Space.SamplePolicies at
// the ratio, from near-uniform to very uneven.
func RandomSearch(ctx context.Context, j Judge, space predictor.Space, starts []Start, opt RandomSearchOptions) (*SearchRun, error) {
	if opt.Fitness == "" {
		opt.Fitness = FitnessKL
	}
	if opt.Budget <= 0 && opt.Samples <= 0 {
		return nil, fmt.Errorf("random search: give a budget of tokens or a number of samples")
	}
	mu, err := checkStarts(space, starts, opt.Ratio)
	if err != nil {
		return nil, err
	}
	run := &SearchRun{Method: MethodRandomSearch, Ratio: opt.Ratio, Fitness: opt.Fitness}
	m := &meter{j: j, ledger: &run.Spent, budget: opt.Budget}
	n, _ := j.SearchWindows()
	all := drawWindows(nil, n, n)
	rng := rand.New(rand.NewPCG(opt.Seed, math.Float64bits(opt.Ratio)^0x726e64)) // "rnd"
	seen := map[string]bool{}
	next := func(k int) (predictor.Policy, error) {
		if k < len(starts) {
			return starts[k].Policy, nil
		}
		if rng.IntN(2) == 0 {
			p := starts[rng.IntN(len(starts))].Policy
			for range 1 + rng.IntN(5) {
				p, _ = mu.mutate(rng, p, opt.Ratio)
			}
			return p, nil
		}
		ps, err := space.SamplePolicies(1, opt.Ratio, opt.Ratio, 1.5, rng.Uint64())
		if err != nil {
			return predictor.Policy{}, err
		}
		return ps[0], nil
	}
	skipped := 0 // in a row: a space too small for the budget runs out of new policies
	for k := 0; (opt.Samples <= 0 || k < opt.Samples) && skipped < 1000; k++ {
		p, err := next(k)
		if err != nil {
			return nil, err
		}
		key := policyKey(p)
		if seen[key] || !mu.meets(p, opt.Ratio) {
			skipped++
			continue
		}
		seen[key], skipped = true, 0
		v, err := m.Fitness(ctx, p, opt.Fitness, all)
		if errors.Is(err, errBudget) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("random search at ratio %v: %w", opt.Ratio, err)
		}
		if len(run.Steps) == 0 || v < run.BestFitness {
			run.track(run.Spent, p, v)
		}
	}
	if len(run.Steps) == 0 {
		return nil, fmt.Errorf("random search at ratio %v: the budget of %d tokens does not pay for one evaluation", opt.Ratio, opt.Budget)
	}
	return run, nil
}
