package ppfnb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// experimentRun is RunExperiment's state, passed from step to step: each
// method is one stage of the pipeline, in the order RunExperiment runs
// them, and fills what the next ones read.
type experimentRun struct {
	o   ExperimentOptions
	res *ExperimentResult

	e       *Evaluator
	lo, hi  float64      // the smallest and largest ratio of the table
	acfg    agent.Config // with the ratio range the agents serve
	pcfg    predictor.TrainConfig
	cleanup func() // removes a temporary dataset

	data     predictor.Dataset // the collection
	all      predictor.Dataset // the collection and every search's measurements
	pr       *predictor.Predictor
	ag       *agent.Agent
	first    map[float64]predictor.Policy // the first agent's policy at each ratio
	statics  map[float64]predictor.Policy // the search's best at each ratio
	dynamics map[float64]predictor.Policy // the final agent's
}

func (x *experimentRun) close() {
	if x.e != nil {
		x.e.Close()
	}
	if x.cleanup != nil {
		x.cleanup()
	}
}

// calibrate loads the model, calibrates it and cuts the text into slices;
// it sets the agents' ratio range from the table's ratios.
func (x *experimentRun) calibrate(ctx context.Context) error {
	o := x.o
	e, err := NewEvaluator(ctx, EvaluatorOptions{Model: o.Model, Tokenizer: o.Tokenizer, Text: o.Text, SeqLen: o.SeqLen,
		SearchTokens: o.SearchTokens, ReportTokens: o.ReportTokens, WikiTokens: o.WikiTokens, Units: o.Units, Backend: o.Backend, Progress: o.Progress})
	if err != nil {
		return err
	}
	x.e = e
	x.res.ModelID, x.res.Slices, x.res.Units = e.ModelID, e.Slices, e.Units
	x.lo, x.hi = slices.Min(o.Ratios), slices.Max(o.Ratios)
	if x.lo <= 0 || x.hi >= e.Space.MaxRatio() {
		return fmt.Errorf("ratios %v: each must lie in (0, %.3g), what this model's minimums allow", o.Ratios, e.Space.MaxRatio())
	}
	x.acfg = o.Agent
	if x.acfg.RatioMin == 0 && x.acfg.RatioMax == 0 {
		x.acfg.RatioMin, x.acfg.RatioMax = max(0, x.lo-0.05), min(x.hi+0.05, e.Space.MaxRatio()-0.02)
	}
	x.acfg.Seed = o.Seed
	x.res.AgentRange = [2]float64{x.acfg.RatioMin, x.acfg.RatioMax}
	x.pcfg = o.Predictor
	x.pcfg.Seed = o.Seed
	return nil
}

// collect measures sampled policies (resuming Dir's dataset), over a
// range a little wider than the agents'.
func (x *experimentRun) collect(ctx context.Context) error {
	o := x.o
	dataPath, cleanup, err := datasetPath(o.Dir, "dataset.jsonl")
	if err != nil {
		return err
	}
	x.cleanup = cleanup
	cres, err := Collect(ctx, x.e, dataPath, CollectOptions{Samples: o.Samples, Seed: o.Seed,
		RatioMin: min(DefaultRatioMin, max(0.01, x.acfg.RatioMin-0.03)), RatioMax: max(DefaultRatioMax, x.acfg.RatioMax+0.05),
		Log: o.Log, Progress: o.Progress})
	if err != nil {
		return err
	}
	x.data = cres.Records
	x.res.Dataset.Records, x.res.Dataset.Resumed = len(x.data), cres.Resumed
	if o.Dir != "" {
		x.res.Dataset.Path = dataPath
	}
	return nil
}

// trainPredictor trains the predictor on most of the collection and
// judges it on the rest.
func (x *experimentRun) trainPredictor(ctx context.Context) error {
	train, test := x.data.Split(x.o.TestFraction, x.o.Seed)
	x.res.Dataset.Train, x.res.Dataset.Test = len(train), len(test)
	pr, err := predictor.Train(ctx, x.e.Space, train, x.pcfg)
	if err != nil {
		return err
	}
	x.pr = pr
	if len(test) > 1 {
		if x.res.Predictor, err = pr.Evaluate(test, 0.1); err != nil {
			return err
		}
	}
	return nil
}

// trainAgent trains the first agent against the predictor.
func (x *experimentRun) trainAgent(ctx context.Context) (err error) {
	x.ag, err = agent.Train(ctx, x.e.Space, x.pr, x.acfg)
	return err
}

// timing measures what one real evaluation, one predictor call and one
// agent call cost, at the middle of the table's ratios.
func (x *experimentRun) timing(ctx context.Context) error {
	return measureTiming(ctx, x.e, x.pr, x.ag, (x.lo+x.hi)/2, &x.res.Timing)
}

// search runs the static search at each ratio from the agent's and the
// baselines' policies; every measurement joins the dataset.
func (x *experimentRun) search(ctx context.Context) error {
	o := x.o
	var searchPath string
	if o.Dir != "" {
		searchPath = filepath.Join(o.Dir, "search.jsonl")
		os.Remove(searchPath)
	}
	x.all = slices.Clone(x.data)
	x.statics = map[float64]predictor.Policy{}
	x.first = map[float64]predictor.Policy{}
	for i, r := range o.Ratios {
		p, err := x.ag.Policy(r)
		if err != nil {
			return err
		}
		x.first[r] = p
		baselines, err := x.e.BaselineStarts(r, o.Seed)
		if err != nil {
			return err
		}
		starts := append([]Start{{Name: MethodPPFDynamic, Policy: p}}, baselines...)
		sopt := o.Search
		sopt.Ratio, sopt.Seed, sopt.Log, sopt.Progress = r, o.Seed+uint64(i), o.Log, o.Progress
		sopt.Train = x.pcfg
		sr, err := Search(ctx, x.e, x.pr, x.all, starts, sopt)
		if err != nil {
			return fmt.Errorf("search at ratio %v: %w", r, err)
		}
		x.res.Searches = append(x.res.Searches, sr)
		x.all = append(x.all, sr.Records...)
		x.res.Dataset.Searched += len(sr.Records)
		x.statics[r] = sr.Best.Policy
		if searchPath != "" {
			if err := AppendRecords(searchPath, sr.Records); err != nil {
				return err
			}
		}
	}
	return nil
}

// retrain brings active learning to the agent too: the searches'
// measurements join the dataset, and the predictor and the agent are
// trained again on all of it. This final agent is PPF-dynamic; the first
// one's policies stay in the table as ppf-dynamic/first.
func (x *experimentRun) retrain(ctx context.Context) error {
	final, err := predictor.Train(ctx, x.e.Space, x.all, x.pcfg)
	if err != nil {
		return err
	}
	agFinal, err := agent.Train(ctx, x.e.Space, final, x.acfg)
	if err != nil {
		return err
	}
	x.res.AgentMeets = true
	mu := newMutator(x.e.Space)
	for k := 0; k <= 100; k++ {
		r := x.acfg.RatioMin + (x.acfg.RatioMax-x.acfg.RatioMin)*float64(k)/100
		for _, a := range []*agent.Agent{x.ag, agFinal} {
			p, err := a.Policy(r)
			if err != nil {
				return err
			}
			x.res.AgentMeets = x.res.AgentMeets && mu.meets(p, r)
		}
	}
	x.dynamics = map[float64]predictor.Policy{}
	for _, r := range x.o.Ratios {
		if x.dynamics[r], err = agFinal.Policy(r); err != nil {
			return err
		}
	}
	if x.o.Dir != "" {
		if err := final.Save(filepath.Join(x.o.Dir, "predictor.json")); err != nil {
			return err
		}
		if err := agFinal.Save(filepath.Join(x.o.Dir, "agent.json")); err != nil {
			return err
		}
	}
	return nil
}

// report measures every method at every ratio on the report slices.
func (x *experimentRun) report(ctx context.Context) error {
	return reportAll(ctx, x.e, x.res, x.o, x.first, x.dynamics, x.statics)
}
