package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

func expf(x float64) float64 { return math.Exp(x) }

func readPredictor(path string) (*predictor.Predictor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pr, err := predictor.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pr, nil
}

// searchReport is what ppf search --json prints.
type searchReport struct {
	*ppfnb.SearchResult
	Report      float64      `json:"report"`       // the best policy's perplexity on the report slice
	StartReport float64      `json:"start_report"` // the best start's
	Slices      ppfnb.Slices `json:"slices"`
}

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("search", "--model M --predictor P --data FILE[,FILE] --ratio R [--agent A] [--rounds N] [--records FILE] [--json]", stderr)
	var f evalFlags
	f.register(fs)
	prPath := fs.String("predictor", "", "predictor file (required)")
	data := fs.String("data", "", "the predictor's dataset(s), comma-separated, for refits (required)")
	agPath := fs.String("agent", "", "agent file: its policy is one of the starts")
	ratioFlag := requiredRatio(fs, "ratio", "the global pruning ratio to search at, in [0, 1) (required)")
	ratio := ratioFlag.p
	opt := ppfnb.DefaultSearch()
	countVar(fs, &opt.Rounds, "rounds", opt.Rounds, 1, "rounds", "active-learning rounds")
	countVar(fs, &opt.Verify, "verify", opt.Verify, 1, "candidates", "candidates measured for real per round")
	countVar(fs, &opt.Generations, "generations", opt.Generations, 1, "generations", "generations on the predictor per round")
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed (also of the random baseline start)")
	records := fs.String("records", "", "append every measurement of the search to this JSON Lines file (not a collection file)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *prPath == "" || *data == "" || !ratioFlag.set {
		fs.Usage()
		return fmt.Errorf("--predictor, --data and --ratio are required")
	}
	space, err := ppfnb.ModelSpace(f.model)
	if err != nil {
		return err
	}
	pr, err := predictor.Load(*prPath, space)
	if err != nil {
		return err
	}
	var starts []ppfnb.Start
	if *agPath != "" {
		a, err := agent.Load(*agPath, space)
		if err != nil {
			return err
		}
		p, err := a.Policy(*ratio)
		if err != nil {
			return err
		}
		starts = append(starts, ppfnb.Start{Name: ppfnb.MethodPPFDynamic, Policy: p})
	}
	d, err := loadData(*data)
	if err != nil {
		return err
	}
	e, err := f.evaluator(ctx, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.CheckDataset(d); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	baselines, err := e.BaselineStarts(*ratio, opt.Seed)
	if err != nil {
		return err
	}
	starts = append(starts, baselines...)
	st := &stages{w: stderr}
	opt.Ratio, opt.Log, opt.Progress = *ratio, st.log, newProgress(stderr, "search")
	res, err := ppfnb.Search(ctx, e, pr, d, starts, opt)
	if err != nil {
		return err
	}
	if *records != "" {
		if err := ppfnb.AppendRecords(*records, res.Records); err != nil {
			return err
		}
	}
	rep := searchReport{SearchResult: res, Slices: e.Slices}
	for _, c := range []struct {
		p   predictor.Policy
		out *float64
	}{{res.Best.Policy, &rep.Report}, {res.BestStart.Policy, &rep.StartReport}} {
		r, err := e.Measure(ctx, c.p, ppfnb.SliceReport)
		if err != nil {
			return err
		}
		*c.out = r.Perplexity
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "ratio %.4g: best start %s %.4f -> best found %.4f (%s, round %d; removes %.4f) on the search slice; %d measurements in %.1fs\n",
		*ratio, strings.TrimPrefix(res.BestStart.Source, "start:"), res.BestStart.Perplexity, res.Best.Perplexity, res.Best.Source, res.Best.Round,
		res.Best.Achieved, len(res.Records), res.Seconds)
	fmt.Fprintf(stdout, "on the held-out report slice: %.4f (best start %.4f)\n", rep.Report, rep.StartReport)
	b, _ := json.Marshal(res.Best.Policy)
	fmt.Fprintf(stdout, "policy: %s\n", b)
	return nil
}
