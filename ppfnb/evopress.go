package ppfnb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Search methods that run every candidate for real, PPF's rivals at an
// equal budget of real evaluations.
const (
	MethodEvoPress     = "evopress"
	MethodRandomSearch = "random-search"
)

// EvoPressOptions sets EvoPress. Zero values take the defaults in brackets.
type EvoPressOptions struct {
	Ratio   float64 // the fixed global ratio every candidate removes
	Fitness string  // FitnessKL [default] or FitnessPPL

	// The schedule. Each generation the parent and Offspring-1 mutants of
	// it are candidates [16]; selection stage s scores the candidates
	// left on StageTokens[s] tokens of the search slice, whole windows
	// drawn afresh at random [2 windows, then the whole slice], and keeps
	// the Survivors[s] best [4, 1]. The last stage keeps one: the next
	// parent.
	Offspring   int
	Survivors   []int
	StageTokens []int

	Budget      int64 // tokens of real evaluations to spend; 0: no limit (then Generations must be set)
	Generations int   // generations at most; 0: until the budget is spent
	Seed        uint64

	Log func(msg string) `json:"-"`
}

func (o EvoPressOptions) withDefaults(windows, seqLen int) (EvoPressOptions, error) {
	if o.Fitness == "" {
		o.Fitness = FitnessKL
	}
	if o.Offspring == 0 {
		o.Offspring = 16
	}
	if o.Survivors == nil {
		o.Survivors = []int{4, 1}
	}
	if o.StageTokens == nil {
		o.StageTokens = []int{min(2, windows) * seqLen, windows * seqLen}
	}
	switch {
	case o.Offspring < 2:
		return o, fmt.Errorf("evopress: %d offspring per generation; want at least 2 (the parent and one mutant)", o.Offspring)
	case len(o.Survivors) == 0 || len(o.Survivors) != len(o.StageTokens):
		return o, fmt.Errorf("evopress: %d survivor counts for %d selection stages; give one per stage", len(o.Survivors), len(o.StageTokens))
	case o.Survivors[len(o.Survivors)-1] != 1:
		return o, fmt.Errorf("evopress: the last stage keeps %d survivors; it must keep 1 (the next parent)", o.Survivors[len(o.Survivors)-1])
	case o.Budget <= 0 && o.Generations <= 0:
		return o, fmt.Errorf("evopress: give a budget of tokens or a number of generations")
	}
	prev := o.Offspring
	for s, k := range o.Survivors {
		if k < 1 || k > prev {
			return o, fmt.Errorf("evopress: stage %d keeps %d of %d candidates; survivors must shrink from the offspring count to 1", s+1, k, prev)
		}
		prev = k
		t := o.StageTokens[s]
		if t < seqLen || t%seqLen != 0 || t > windows*seqLen {
			return o, fmt.Errorf("evopress: stage %d scores on %d tokens; use whole windows of %d, at most the search slice's %d tokens",
				s+1, t, seqLen, windows*seqLen)
		}
	}
	return o, nil
}

// Schedule describes the selection stages in one line, e.g.
// "16 candidates -> 4 on 512 tokens -> 1 on 4096 tokens".
func (o EvoPressOptions) Schedule() string {
	parts := []string{strconv.Itoa(o.Offspring) + " candidates"}
	for s := range o.Survivors {
		parts = append(parts, fmt.Sprintf("%d on %d tokens", o.Survivors[s], o.StageTokens[s]))
	}
	return strings.Join(parts, " -> ")
}

// EvoPress searches for the best policy at one fixed ratio by running
// every candidate for real, as EvoPress does (Sieberling et al., ICML
// 2025, "EvoPress: Accurate Dynamic Model Compression via Evolutionary
// Search"): a (1 + lambda) evolution whose parent is among its own
// candidates, budget-keeping mutations, and multi-step selection, where
// many candidates are scored on few tokens and the survivors on more,
// with fresh tokens at every stage so that no candidate wins by the luck
// of one sample.
//
// The paper's schedule for unstructured sparsity (its repository's
// example) is 64 candidates -> 8 on 2,048 tokens -> 2 on 16,384 -> 1 on
// 65,536, for 400 generations, KL fitness, on 2^23 calibration tokens.
// Here the search slice is 4,096 tokens, so the default is scaled down:
// 16 candidates -> 4 on 2 windows -> 1 on the whole slice. Differences:
// the search space and mutations are PPF's (KV groups and MLP channels
// per layer, moved between layers or traded against each other, see
// mutator), not EvoPress's equal-cost compression levels, so the budget
// holds to half a channel rather than exactly; the first parent is the
// best of starts (the same starts every method of the duel gets), not
// the uniform policy; the last stage reads the whole search slice, whose
// scores are cached, so the parent costs nothing to re-score. It stops
// when the next evaluation would pass the budget.
//
// j charges nothing itself: EvoPress counts what it spends in the run's
// ledger.
func EvoPress(ctx context.Context, j Judge, space predictor.Space, starts []Start, opt EvoPressOptions) (*SearchRun, error) {
	n, seqLen := j.SearchWindows()
	opt, err := opt.withDefaults(n, seqLen)
	if err != nil {
		return nil, err
	}
	mu, err := checkStarts(space, starts, opt.Ratio)
	if err != nil {
		return nil, err
	}
	run := &SearchRun{Method: MethodEvoPress, Ratio: opt.Ratio, Fitness: opt.Fitness}
	m := &meter{j: j, ledger: &run.Spent, budget: opt.Budget}
	rng := rand.New(rand.NewPCG(opt.Seed, math.Float64bits(opt.Ratio)^0x65766f)) // "evo"
	cache := map[string]float64{}                                                // policy and windows -> fitness
	score := func(p predictor.Policy, windows []int) (float64, error) {
		key := policyKey(p) + "@" + fmt.Sprint(windows)
		if v, ok := cache[key]; ok {
			return v, nil
		}
		v, err := m.Fitness(ctx, p, opt.Fitness, windows)
		if err != nil {
			return 0, err
		}
		cache[key] = v
		return v, nil
	}
	type cand struct {
		p   predictor.Policy
		key string
		fit float64
	}
	// rank scores cands on a fresh draw of stage s's windows and keeps
	// the best keep.
	rank := func(cands []cand, s, keep int) ([]cand, error) {
		windows := drawWindows(rng, n, opt.StageTokens[s]/seqLen)
		for i := range cands {
			v, err := score(cands[i].p, windows)
			if err != nil {
				return nil, err
			}
			cands[i].fit = v
		}
		slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Or(cmp.Compare(a.fit, b.fit), cmp.Compare(a.key, b.key)) })
		return cands[:keep], nil
	}

	// The first parent: the best start on the last stage's tokens.
	var pool []cand
	for _, s := range starts {
		pool = append(pool, cand{p: s.Policy, key: policyKey(s.Policy)})
	}
	pool = uniqueCands(pool, func(c cand) string { return c.key })
	best, err := rank(pool, len(opt.StageTokens)-1, 1)
	if err != nil {
		return nil, fmt.Errorf("evopress at ratio %v: measuring the starts: %w (budget %d tokens too small?)", opt.Ratio, err, opt.Budget)
	}
	parent := best[0]
	// When the last stage reads the whole slice, every parent's score is
	// exact and comparable, so the answer is the best parent so far (a
	// parent can lose its place on the first stage's few tokens);
	// otherwise it is the current parent, as in EvoPress.
	exact := opt.StageTokens[len(opt.StageTokens)-1] == n*seqLen
	run.track(run.Spent, parent.p, parent.fit)
	for gen := 1; opt.Generations <= 0 || gen <= opt.Generations; gen++ {
		cands := []cand{parent}
		seen := map[string]bool{parent.key: true}
		for tries := 0; len(cands) < opt.Offspring && tries < 20*opt.Offspring; tries++ {
			child := parent.p
			for moves := 0; moves == 0 || (moves < 4 && rng.IntN(2) == 0); moves++ {
				child, _ = mu.mutate(rng, child, opt.Ratio)
			}
			if k := policyKey(child); !seen[k] {
				seen[k] = true
				cands = append(cands, cand{p: child, key: k})
			}
		}
		for s, keep := range opt.Survivors {
			if cands, err = rank(cands, s, min(keep, len(cands))); err != nil {
				break
			}
		}
		if errors.Is(err, errBudget) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("evopress at ratio %v, generation %d: %w", opt.Ratio, gen, err)
		}
		parent = cands[0]
		if !exact || parent.fit < run.BestFitness {
			run.track(run.Spent, parent.p, parent.fit)
		}
		if opt.Log != nil && gen%10 == 0 {
			opt.Log(fmt.Sprintf("evopress %.2f generation %d: %s %.5f, %d evaluations, %d tokens", opt.Ratio, gen, opt.Fitness, parent.fit, run.Spent.Evals, run.Spent.Tokens))
		}
	}
	return run, nil
}

// drawWindows returns k distinct window indices of n at random, sorted;
// all of them, in order, when k >= n.
func drawWindows(rng *rand.Rand, n, k int) []int {
	if k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := rng.Perm(n)[:k]
	slices.Sort(out)
	return out
}

// checkStarts validates the starts of a search at ratio and returns the
// mutator of the space.
func checkStarts(space predictor.Space, starts []Start, ratio float64) (*mutator, error) {
	if len(starts) == 0 {
		return nil, fmt.Errorf("search at ratio %v: no start policies; give at least one (a baseline's)", ratio)
	}
	mu := newMutator(space)
	for _, s := range starts {
		if err := space.ValidatePolicy(s.Policy); err != nil {
			return nil, fmt.Errorf("start %s: %w", s.Name, err)
		}
		if !mu.meets(s.Policy, ratio) {
			return nil, fmt.Errorf("start %s removes %.4f of the parameters, not the search's ratio %.4f; give starts at the search's ratio",
				s.Name, space.Ratio(s.Policy), ratio)
		}
	}
	return mu, nil
}

// uniqueCands keeps the first of each key, in order.
func uniqueCands[T any](xs []T, key func(T) string) []T {
	seen := map[string]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}
