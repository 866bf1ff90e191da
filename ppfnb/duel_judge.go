package ppfnb

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// judged measures policies on the report texts for the duel, once each:
// judging spends nothing of any method's budget.
type judged struct {
	e      *Evaluator
	cache  map[string][2]float64 // policy -> report, wiki
	search map[string]float64    // policy -> log perplexity on the search slice
}

// reportPlan measures a plan (nil: the dense model) on the report slice
// and, when there is one, WikiText-2.
func (j *judged) reportPlan(ctx context.Context, plan *prune.Plan) (report, wiki float64, err error) {
	r, err := j.e.MeasurePlan(ctx, plan, SliceReport)
	if err != nil {
		return 0, 0, err
	}
	if j.e.Slices.Wiki != "" {
		w, err := j.e.MeasurePlan(ctx, plan, SliceWiki)
		if err != nil {
			return 0, 0, err
		}
		wiki = w.Perplexity
	}
	return r.Perplexity, wiki, nil
}

// report is reportPlan for a policy with the evaluator's units, cached.
func (j *judged) report(ctx context.Context, p predictor.Policy) (report, wiki float64, err error) {
	key := policyKey(p)
	if v, ok := j.cache[key]; ok {
		return v[0], v[1], nil
	}
	plan, err := j.e.Plan(p)
	if err != nil {
		return 0, 0, err
	}
	if report, wiki, err = j.reportPlan(ctx, plan); err != nil {
		return 0, 0, err
	}
	j.cache[key] = [2]float64{report, wiki}
	return report, wiki, nil
}

// checkpoints are the budget's shares at which curves are judged:
// budget/2^k for k = n-1 down to 1, then 5/8, 3/4, 7/8 and all of it
// (where PPF, which collects first, has its points).
func checkpoints(budget int64, n int) []int64 {
	var out []int64
	for k := n - 1; k >= 1; k-- {
		out = append(out, budget>>k)
	}
	return append(out, budget*5/8, budget*3/4, budget*7/8, budget)
}

// addRun judges a run's incumbents at the checkpoints and its best, and
// adds it to the result.
func (j *judged) addRun(ctx context.Context, res *DuelResult, run *SearchRun, seed uint64, budget int64, took time.Duration) error {
	dr := DuelRun{Method: run.Method, Ratio: run.Ratio, Seed: seed, Fitness: run.Fitness, Spent: run.Spent,
		Changes: len(run.Steps), Best: run.Best, Seconds: took.Seconds()}
	if run.Spent.Tokens > budget {
		return fmt.Errorf("%s at ratio %v spent %d tokens, over the budget of %d", run.Method, run.Ratio, run.Spent.Tokens, budget)
	}
	for _, x := range checkpoints(budget, res.Options.Checkpoints) {
		pt := AnytimePoint{Tokens: x}
		if st, ok := run.IncumbentAt(x); ok {
			var err error
			if pt.Report, pt.Wiki, err = j.report(ctx, st.Policy); err != nil {
				return err
			}
			pt.Has = true
		}
		dr.Points = append(dr.Points, pt)
	}
	var err error
	if dr.Report, dr.Wiki, err = j.report(ctx, run.Best); err != nil {
		return err
	}
	res.Runs = append(res.Runs, dr)
	return nil
}

// qualityPolicies is how many of EvoPress's incumbents judge the predictor.
const qualityPolicies = 16

// judgeQuality measures the perplexity of up to qualityPolicies of
// EvoPress's incumbents, evenly spaced along its path (the region a
// search visits), and scores PPF's predictors on them; it also judges
// PPF-dynamic's and PPF-static's policies on the report slice.
func (j *judged) judgeQuality(ctx context.Context, evo *SearchRun, q *PredictorQuality) error {
	var pols []predictor.Policy
	steps := evo.Steps
	for k := range min(qualityPolicies, len(steps)) {
		pols = append(pols, steps[k*len(steps)/min(qualityPolicies, len(steps))].Policy)
	}
	measured := make([]float64, len(pols))
	for i, p := range pols {
		key := policyKey(p)
		if _, ok := j.search[key]; !ok {
			r, err := j.e.Measure(ctx, p, SliceSearch)
			if err != nil {
				return err
			}
			j.search[key] = math.Log(r.Perplexity)
		}
		measured[i] = j.search[key]
	}
	q.Policies = len(pols)
	for _, c := range []struct {
		pr       *predictor.Predictor
		mae, rho *float64
	}{{q.first, &q.FirstMAE, &q.FirstSpearman}, {q.final, &q.FinalMAE, &q.FinalSpearman}} {
		pred := make([]float64, len(pols))
		var sum float64
		for i, p := range pols {
			y, err := c.pr.Score(p)
			if err != nil {
				return err
			}
			pred[i] = y
			sum += math.Abs(y - measured[i])
		}
		*c.mae = sum / float64(max(1, len(pols)))
		*c.rho = nanToZero(predictor.Spearman(pred, measured))
	}
	var err error
	q.DynamicReport, _, err = j.report(ctx, q.dynamic)
	return err
}

// duelBaselines measures the heuristics at every ratio with their own
// units and, for the allocations, with PPF's.
func duelBaselines(ctx context.Context, e *Evaluator, j *judged, res *DuelResult) error {
	for _, r := range res.Options.Ratios {
		for _, m := range []string{prune.MethodUniform, prune.MethodWandaSP, prune.MethodOWL, prune.MethodFLAP, prune.MethodShortGPT} {
			plan, err := e.BaselinePlan(m, r, 1)
			if err != nil {
				return err
			}
			mr := MethodResult{Method: m, Ratio: r, Achieved: plan.Policy.Ratio(e.Shape)}
			mr.Policy = predictor.Policy(plan.Policy)
			if mr.Report, mr.Wiki, err = j.reportPlan(ctx, plan); err != nil {
				return fmt.Errorf("%s at %v: %w", m, r, err)
			}
			res.Baselines = append(res.Baselines, mr)
		}
		for _, m := range ppfUnitBaselines {
			p, err := e.BaselinePolicy(m, r, 1)
			if err != nil {
				return err
			}
			mr := MethodResult{Method: unitsName(m), Ratio: r, Achieved: e.Space.Ratio(p), Policy: p}
			if mr.Report, mr.Wiki, err = j.report(ctx, p); err != nil {
				return fmt.Errorf("%s at %v: %w", mr.Method, r, err)
			}
			res.Baselines = append(res.Baselines, mr)
		}
	}
	return nil
}
