package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ppfkit/ppf/ppfnb"
)

func runDuel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("duel", "--model M [--ratios 0.3,0.5] [--budget N] [--seeds 3] [--quick] [--out DIR] [--json|--markdown]", stderr)
	var f evalFlags
	f.register(fs)
	ratios := fs.String("ratios", "0.3,0.5", "global pruning ratios")
	methods := fs.String("methods", strings.Join(ppfnb.DuelMethods(), ","), "the searches to run, separated by commas")
	quick := fs.Bool("quick", false, "budget 100, 2 seeds, 8192 WikiText-2 tokens: 1.5 minutes on stories260K and two cores")
	budget := optionalCount(fs, "budget", 2, "evaluations", "real evaluations of the whole search slice each method may spend per ratio (default 400, quick 100)")
	seeds := optionalCount(fs, "seeds", 1, "seeds", "runs of every method at every ratio (default 3, quick 2)")
	collect := optionalCount(fs, "collect", 1, "policies", "policies the ppf entry collects per seed, charged in full at every ratio (default half the budget; ppf-focused collects a quarter)")
	wiki := optionalCount(fs, "wiki-tokens", 0, "tokens", "WikiText-2 tokens of the out-of-domain report text, 0 for none (default 50000, quick 8192)")
	report := optionalCount(fs, "report-tokens", 1, "tokens", "length of the report slice in tokens (default: the rest of --text)")
	var near, local float64
	ratioVar(fs, &near, "collect-near", 0, "the ppf entry collects at ratios within this distance of --ratios (0: its usual range, 0.02 to 0.65; ppf-focused: 0.05)")
	ratioVar(fs, &local, "local", 0, "the ppf entry's search refits its predictor only on records within this distance of the ratio (0: all; ppf-focused: 0.05)")
	screen := optionalCount(fs, "screen", 0, "candidates", "the ppf entry screens this many of the predictor's best candidates per round on 2 random windows before measuring --verify of them on the whole slice (0: no screening; ppf-focused: 24)")
	verify := optionalCount(fs, "verify", 1, "candidates", "candidates the ppf entry measures on the whole slice per round (default 12, quick 6; ppf-focused: 4)")
	fitness := fs.String("fitness", ppfnb.FitnessKL, "what EvoPress and random search minimise: kl (divergence from the dense model, EvoPress's) or ppl")
	out := fs.String("out", "", "write duel.json, duel.md and duel.png (and each seed's dataset) here")
	asJSON := fs.Bool("json", false, "print duel.json's object")
	load := fs.String("load", "", "show the tables of an earlier run's duel.json (and, with --out, write its duel.md and duel.png there) instead of running")
	markdown := fs.Bool("markdown", false, "print Markdown tables")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *fitness != ppfnb.FitnessKL && *fitness != ppfnb.FitnessPPL {
		return fmt.Errorf("--fitness %q: use kl or ppl", *fitness)
	}
	o := ppfnb.DefaultDuel(f.model, *quick)
	o.Tokenizer, o.Backend, o.Text, o.SeqLen, o.SearchTokens, o.Units = f.tok, f.backend, f.text, f.seqLen, f.searchTokens, f.units
	o.Fitness, o.Dir, o.CollectNear, o.Local = *fitness, *out, near, local
	var err error
	if o.Ratios, err = parseRatios(*ratios); err != nil {
		return err
	}
	o.Methods = strings.Split(*methods, ",")
	if budget.set {
		o.Budget, o.Collect = budget.n, budget.n/2
	}
	if seeds.set {
		o.Seeds = seeds.n
	}
	if collect.set {
		o.Collect = collect.n
	}
	if screen.set {
		o.Search.Screen = screen.n
	}
	if verify.set {
		o.Search.Verify = verify.n
	}
	if wiki.set {
		o.WikiTokens = wiki.n
	}
	if report.set {
		o.ReportTokens = report.n
	}
	st := &stages{w: stderr}
	o.Stage, o.Log, o.Progress = st.stage, st.log, st.progress
	var res *ppfnb.DuelResult
	if *load != "" {
		if res, err = ppfnb.LoadDuel(*load); err == nil && *out != "" {
			err = res.Save(*out)
		}
	} else {
		res, err = ppfnb.RunDuel(ctx, o)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprint(stdout, res.Table(*markdown))
	if *out != "" {
		fmt.Fprintf(stderr, "ppf duel: wrote %s/duel.json, duel.md and duel.png\n", *out)
	}
	return nil
}
