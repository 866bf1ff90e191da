package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ppfkit/ppf/ppfnb"
)

// evalFlags are the settings of the text slices and the units, shared by
// the commands that measure policies: collect, search and experiment. A
// search must use the collection's.
type evalFlags struct {
	model, tok, text, units string
	backend                 string
	searchTokens, seqLen    int
}

func (f *evalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "stories260K", "model name or path")
	fs.StringVar(&f.tok, "tokenizer", "", "tokenizer file (default: the one beside the model)")
	fs.StringVar(&f.text, "text", ppfnb.DefaultText, "in-domain text: its first 4096 tokens calibrate, the next --search-tokens are the search slice, the rest the report slice")
	countVar(fs, &f.searchTokens, "search-tokens", ppfnb.DefaultSearchTokens, 1, "tokens", "length of the search slice in tokens (collection and search must agree)")
	countVar(fs, &f.seqLen, "seqlen", ppfnb.DefaultSeqLen, 1, "tokens", "window of every measurement in tokens (or the model's context if shorter)")
	fs.StringVar(&f.backend, "backend", "cpu", backendUsage("where perplexity is measured"))
	fs.StringVar(&f.units, "units", ppfnb.UnitsFLAP, "which units a policy keeps inside a layer: flap (fluctuation score with bias compensation) or wanda-sp")
}

func (f *evalFlags) evaluator(ctx context.Context, stderr io.Writer) (*ppfnb.Evaluator, error) {
	return ppfnb.NewEvaluator(ctx, ppfnb.EvaluatorOptions{Model: f.model, Tokenizer: f.tok, Text: f.text,
		SearchTokens: f.searchTokens, SeqLen: f.seqLen, Units: f.units, Backend: f.backend, Progress: newProgress(stderr, "calibration")})
}

// stages draws one progress bar per step of a long command on a terminal.
type stages struct {
	w   io.Writer
	bar func(done, total int)
}

func (s *stages) stage(name string) {
	fmt.Fprintf(s.w, "ppf: %s\n", name)
	s.bar = newProgress(s.w, name)
}

func (s *stages) log(msg string) { fmt.Fprintf(s.w, "ppf: %s\n", msg) }

func (s *stages) progress(done, total int) {
	if s.bar != nil {
		s.bar(done, total)
	}
}

// parseShard reads "i/n".
func parseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		shard, err = strconv.Atoi(a)
		if err == nil {
			shards, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, fmt.Errorf("--shard %q: write i/n with 0 <= i < n, e.g. --shard 0/4 (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)", s)
	}
	return shard, shards, nil
}

func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("collect", "--model M --out FILE [--samples N] [--seed S] [--shard i/n]  |  ppf collect --merge --out FILE SHARD...", stderr)
	var f evalFlags
	f.register(fs)
	out := fs.String("out", "", "JSON Lines file of measured policies (resumed when it exists) (required)")
	var opt ppfnb.CollectOptions
	countVar(fs, &opt.Samples, "samples", 300, 1, "policies", "samples of the whole collection, all shards together")
	fs.Uint64Var(&opt.Seed, "seed", 1, "fixes every sample's policy: shards of one seed merge into the single run")
	shard := fs.String("shard", "0/1", "measure shard i of n: the samples k with k mod n == i")
	ratioVar(fs, &opt.RatioMin, "ratio-min", ppfnb.DefaultRatioMin, "smallest global ratio drawn")
	ratioVar(fs, &opt.RatioMax, "ratio-max", ppfnb.DefaultRatioMax, "largest global ratio drawn")
	merge := fs.Bool("merge", false, "merge the shard files given as arguments into --out, sorted by sample index")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("--out is required: the dataset file to write (or resume)")
	}
	if *merge {
		res, err := ppfnb.MergeShards(*out, fs.Args())
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(res)
		}
		fmt.Fprintf(stdout, "merged %d records of model %s from %d files into %s", res.Records, res.ModelID, res.Files, res.Out)
		if res.Missing > 0 {
			fmt.Fprintf(stdout, "; %d sample indices below the largest are missing (unfinished shards: resume them and merge again)", res.Missing)
		}
		fmt.Fprintln(stdout)
		return nil
	}
	if fs.NArg() > 0 {
		return flagErrorf("unexpected argument %q: shard files are merged with --merge", fs.Arg(0))
	}
	var err error
	if opt.Shard, opt.Shards, err = parseShard(*shard); err != nil {
		return err
	}
	e, err := f.evaluator(ctx, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	st := &stages{w: stderr}
	opt.Log, opt.Progress = st.log, newProgress(stderr, "collect")
	res, err := ppfnb.Collect(ctx, e, *out, opt)
	if err != nil {
		if res != nil && res.Measured+res.Resumed > 0 {
			fmt.Fprintf(stderr, "ppf collect: %s keeps %d of %d records; run the same command again to continue\n", *out, res.Measured+res.Resumed, res.Total)
		}
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%s: %d records of shard %d/%d of a %d-sample collection (%d measured now, %d resumed), model %s\n",
		res.Path, len(res.Records), res.Shard, res.Shards, opt.Samples, res.Measured, res.Resumed, e.ModelID)
	fmt.Fprint(stdout, e.Slices.String())
	return nil
}
