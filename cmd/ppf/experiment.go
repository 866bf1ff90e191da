package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ppfkit/ppf/ppfnb"
)

func parseRatios(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(r > 0 && r < 1) {
			return nil, fmt.Errorf("--ratios %q: give ratios in (0, 1) separated by commas, e.g. 0.1,0.2,0.3", s)
		}
		out = append(out, r)
	}
	return out, nil
}

func runExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("experiment", "--model M [--ratios 0.1,0.2,...] [--quick] [--out DIR] [--json|--markdown]", stderr)
	var f evalFlags
	f.register(fs)
	ratios := fs.String("ratios", "0.1,0.2,0.3,0.4,0.5", "global pruning ratios of the table")
	quick := fs.Bool("quick", false, "a smaller run (300 policies, no WikiText-2, shorter searches): under 3 minutes on stories260K")
	out := fs.String("out", "", "keep dataset.jsonl (resumed on the next run), search.jsonl, predictor.json, agent.json and results.json here")
	samples := optionalCount(fs, "samples", 1, "policies", "policies to collect (default 4000, quick 300)")
	wiki := optionalCount(fs, "wiki-tokens", 0, "tokens", "WikiText-2 tokens of the extra report text, 0 for none (default 100000, or none with --quick or when --text is WikiText-2)")
	report := optionalCount(fs, "report-tokens", 1, "tokens", "length of the report slice in tokens (default: the rest of --text, 32768 at most with --quick)")
	rounds := optionalCount(fs, "rounds", 1, "rounds", "search rounds per ratio (default 6, quick 3)")
	seed := fs.Uint64("seed", 1, "seed of everything")
	asJSON := fs.Bool("json", false, "print results.json's object")
	markdown := fs.Bool("markdown", false, "print Markdown tables")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := ppfnb.DefaultExperiment(f.model, *quick)
	o.Tokenizer, o.Dir, o.Seed, o.Backend = f.tok, *out, *seed, f.backend
	o.Text, o.SeqLen, o.SearchTokens, o.Units = f.text, f.seqLen, f.searchTokens, f.units
	var err error
	if o.Ratios, err = parseRatios(*ratios); err != nil {
		return err
	}
	if samples.set {
		o.Samples = samples.n
	}
	if wiki.set {
		o.WikiTokens = wiki.n
	}
	if report.set {
		o.ReportTokens = report.n
	}
	if rounds.set {
		o.Search.Rounds = rounds.n
	}
	st := &stages{w: stderr}
	o.Stage, o.Log, o.Progress = st.stage, st.log, st.progress
	res, err := ppfnb.RunExperiment(ctx, o)
	if err != nil {
		if *out != "" {
			fmt.Fprintf(stderr, "ppf experiment: measured policies so far are kept in %s; run the same command again to continue\n", *out)
		}
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprint(stdout, res.Table(*markdown))
	return nil
}
