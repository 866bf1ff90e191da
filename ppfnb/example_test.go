package ppfnb_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb"
)

// Load a model by name and measure its perplexity on a text.
func ExampleLoad() {
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		panic(err)
	}
	ev, err := lm.Evaluate(context.Background(), ppfnb.DefaultText, native.EvalOptions{SeqLen: 256})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d layers, perplexity %.2f\n", lm.Name, lm.Model.NumLayers, ev.Perplexity)
	// Output: stories260K: 5 layers, perplexity 5.74
}

// Prune a model with FLAP, as ppf prune does: calibrate on the first
// 4,096 tokens of TinyStories, plan, slice; then evaluate the smaller
// model on text it was not calibrated on.
func ExamplePrune() {
	ctx := context.Background()
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		panic(err)
	}
	small, err := ppfnb.Prune(ctx, lm, ppfnb.PruneOptions{Options: prune.Options{Method: prune.MethodFLAP, Ratio: 0.3}})
	if err != nil {
		panic(err)
	}
	ev, err := small.Evaluate(ctx, ppfnb.DefaultWiki, native.EvalOptions{MaxTokens: 8192})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d -> %d parameters, perplexity %.1f on WikiText-2\n", small.Name, lm.Model.NumParams(), small.Model.NumParams(), ev.Perplexity)
	// Output: stories260K-flap-0.3: 260032 -> 192512 parameters, perplexity 216.1 on WikiText-2
}

// Compare two methods over ratios: prune with each, measure on text the
// calibration never saw, and collect the results in a Sweep, which shows
// itself as a table (and, with Plot, as a chart).
func ExampleSweep() {
	ctx := context.Background()
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		panic(err)
	}
	sweep := &ppfnb.Sweep{Title: "stories260K, held-out TinyStories"}
	for _, method := range []string{prune.MethodUniform, prune.MethodFLAP} {
		for _, ratio := range []float64{0.2, 0.4} {
			small, err := ppfnb.Prune(ctx, lm, ppfnb.PruneOptions{Options: prune.Options{Method: method, Ratio: ratio}})
			if err != nil {
				panic(err)
			}
			ev, err := native.Perplexity(ctx, small.Model, small.HeldOut(), native.EvalOptions{SeqLen: 256})
			if err != nil {
				panic(err)
			}
			sweep.Add(method, ratio, small.Plan.Policy.Ratio(prune.ShapeOf(lm.Model)), ev.Perplexity)
		}
	}
	fmt.Println(sweep.Best(0.4), "is best at 0.4")
	fmt.Print(sweep)
	// Output:
	// flap is best at 0.4
	// Perplexity after pruning: stories260K, held-out TinyStories; lower is better
	// method   ratio 0.2  ratio 0.4
	// uniform  18.66      99.44
	// flap     11.97      30.05
}

// Measure the policies of two baselines at one ratio on held-out text,
// with the same units: only the allocation differs.
func ExampleEvaluator_Measure() {
	ctx := context.Background()
	e, err := ppfnb.NewEvaluator(ctx, ppfnb.EvaluatorOptions{Model: "stories260K"})
	if err != nil {
		panic(err)
	}
	for _, method := range []string{"uniform", "flap"} {
		p, err := e.BaselinePolicy(method, 0.3, 1)
		if err != nil {
			panic(err)
		}
		m, err := e.Measure(ctx, p, ppfnb.SliceReport)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s allocation, %.0f%% removed: perplexity %.1f\n", method, 100*e.Space.Ratio(p), m.Perplexity)
	}
	// Output:
	// uniform allocation, 30% removed: perplexity 18.2
	// flap allocation, 30% removed: perplexity 20.7
}

// Search at one ratio by running candidates for real, as EvoPress does,
// within a budget of real evaluation tokens counted in a Ledger.
func ExampleEvoPress() {
	ctx := context.Background()
	e, err := ppfnb.NewEvaluator(ctx, ppfnb.EvaluatorOptions{Model: "stories260K", SearchTokens: 1024})
	if err != nil {
		panic(err)
	}
	p, err := e.BaselinePolicy("uniform", 0.4, 1)
	if err != nil {
		panic(err)
	}
	budget := int64(30 * 1024) // thirty evaluations of the whole search slice
	run, err := ppfnb.EvoPress(ctx, e, e.Space, []ppfnb.Start{{Name: "uniform", Policy: p}},
		ppfnb.EvoPressOptions{Ratio: 0.4, Budget: budget, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("within budget:", run.Spent.Tokens <= budget)
	fmt.Println("better than the start:", run.BestFitness < run.Steps[0].Fitness)
	// Output:
	// within budget: true
	// better than the start: true
}

// Prune a model with FLAP, save the smaller model with its tokenizer, and
// load it back: the saved model measures what the pruned one did.
func ExampleLM_Save() {
	ctx := context.Background()
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		panic(err)
	}
	e, err := ppfnb.NewEvaluator(ctx, ppfnb.EvaluatorOptions{Model: "stories260K"})
	if err != nil {
		panic(err)
	}
	plan, err := e.BaselinePlan("flap", 0.3, 1)
	if err != nil {
		panic(err)
	}
	small, err := prune.Slice(lm.Model, plan)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "pruned-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	pruned := &ppfnb.LM{Name: "stories260K, flap 0.3", Model: small, Tokenizer: lm.Tokenizer, TokenizerPath: lm.TokenizerPath}
	if err := pruned.Save(dir); err != nil {
		panic(err)
	}
	back, err := ppfnb.Load(dir, "")
	if err != nil {
		panic(err)
	}
	for _, m := range []*ppfnb.LM{pruned, back} {
		ev, err := m.Evaluate(ctx, ppfnb.DefaultText, native.EvalOptions{SeqLen: 256})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%.0f%% of the parameters, perplexity %.2f\n", 100*float64(m.Model.NumParams())/float64(lm.Model.NumParams()), ev.Perplexity)
	}
	// Output:
	// 74% of the parameters, perplexity 19.71
	// 74% of the parameters, perplexity 19.71
}
