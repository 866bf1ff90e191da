package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// loadData reads and concatenates comma-separated JSON Lines files.
func loadData(paths string) (predictor.Dataset, error) {
	var d predictor.Dataset
	for _, p := range strings.Split(paths, ",") {
		part, err := predictor.LoadDataset(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		d = append(d, part...)
	}
	if len(d) == 0 {
		return nil, fmt.Errorf("%s holds no records; collect some with ppf collect", paths)
	}
	return d, nil
}

// checkDuplicates refuses datasets holding a collected record twice:
// the same sample (source tag with its sample index, "flap+2#17") with
// the same policy of the same model and slice in one file, as two
// collectors writing to one file leave them, or one file given twice.
// Duplicated records would weigh twice in training and leak between the
// training and held-out records. Records without a sample index (search,
// agent) may repeat a policy and are not compared.
func checkDuplicates(paths string) error {
	var files []string
	for _, p := range strings.Split(paths, ",") {
		p = strings.TrimSpace(p)
		for _, q := range files {
			if sameFile(p, q) {
				return fmt.Errorf("--data names %s twice (as %s and %s): every record would be in the training data twice", p, q, p)
			}
		}
		files = append(files, p)
		d, err := predictor.LoadDataset(p)
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for i, r := range d {
			if _, ok := ppfnb.SampleIndex(r.Source); !ok {
				continue
			}
			b, err := json.Marshal(struct {
				Source, Model, Units string
				Tokens               int
				Policy               predictor.Policy
			}{r.Source, r.ModelID, r.Units, r.Tokens, r.Policy})
			if err != nil {
				return err
			}
			if prev, dup := seen[string(b)]; dup {
				return fmt.Errorf("%s line %d duplicates line %d (sample %q measured twice, as two collectors writing to one file leave it); remove the duplicated lines, or collect again into a new file",
					p, i+1, prev, r.Source)
			}
			seen[string(b)] = i + 1
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

func runTrainPredictor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train-predictor", "--model M --data FILE[,FILE] --out predictor.json [--test 0.2] [--seed S] [--json]", stderr)
	model := fs.String("model", "stories260K", "the model the records were measured on (its pruning space)")
	data := fs.String("data", "", "JSON Lines dataset(s), comma-separated (required)")
	out := fs.String("out", "", "predictor file to write (required)")
	test := new(float64)
	ratioVar(fs, test, "test", 0.2, "share of the records held out to judge the predictor (0: train on all)")
	seed := fs.Uint64("seed", 1, "seed of the split and of training")
	arch := fs.String("arch", "cnn", "network: cnn (kernel 1), cnn3 (kernel 3) or mlp")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("--data and --out are required")
	}
	network, err := predictor.ArchNamed(*arch)
	if err != nil {
		return flagErrorf("--arch: %v", err)
	}
	space, err := ppfnb.ModelSpace(*model)
	if err != nil {
		return err
	}
	d, err := loadData(*data)
	if err != nil {
		return err
	}
	if err := checkDuplicates(*data); err != nil {
		return err
	}
	for i, r := range d {
		if err := r.CheckSpace(space); err != nil {
			return fmt.Errorf("record %d: %w", i+1, err)
		}
	}
	cfg := predictor.DefaultTrainConfig()
	cfg.Seed = *seed
	cfg.Arch = network
	train, held := d, predictor.Dataset(nil)
	if *test > 0 {
		train, held = d.Split(*test, *seed)
	}
	bar := newProgress(stderr, "training")
	cfg.Progress = func(e predictor.Epoch) {
		if bar != nil {
			bar(e.Epoch, cfg.MaxEpochs)
		}
	}
	pr, err := predictor.Train(ctx, space, train, cfg)
	if err != nil {
		return err
	}
	if err := pr.Save(*out); err != nil {
		return err
	}
	out2 := struct {
		Out     string                 `json:"out"`
		Train   int                    `json:"train"`
		Test    int                    `json:"test"`
		Report  *predictor.Report      `json:"report,omitempty"`
		Summary predictor.TrainSummary `json:"summary"`
	}{Out: *out, Train: len(train), Test: len(held), Summary: pr.Summary()}
	if len(held) > 1 {
		rep, err := pr.Evaluate(held, 0.1)
		if err != nil {
			return err
		}
		out2.Report = &rep
	}
	if *asJSON {
		out2.Summary.Curve = nil
		return json.NewEncoder(stdout).Encode(out2)
	}
	fmt.Fprintf(stdout, "trained on %d records (best epoch %d of %d, validation RMSE %.4f); saved %s\n",
		len(train), pr.Summary().BestEpoch, pr.Summary().Epochs, pr.Summary().ValRMSE, *out)
	if out2.Report != nil {
		fmt.Fprintf(stdout, "on %d held-out records (log-perplexity):\n%s", len(held), out2.Report)
	}
	return nil
}

func runTrainAgent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train-agent", "--predictor P --out agent.json [--ratio-min R] [--ratio-max R] [--steps N] [--json]", stderr)
	prPath := fs.String("predictor", "", "predictor file (required)")
	model := fs.String("model", "", "check that the predictor was trained for this model")
	out := fs.String("out", "", "agent file to write (required)")
	cfg := agent.DefaultConfig()
	ratioVar(fs, &cfg.RatioMin, "ratio-min", cfg.RatioMin, "smallest ratio the agent serves")
	ratioVar(fs, &cfg.RatioMax, "ratio-max", cfg.RatioMax, fmt.Sprintf("largest ratio the agent serves (past the dataset's largest ratio, %v by default, it serves the predictor's extrapolation)", ppfnb.DefaultRatioMax))
	countVar(fs, &cfg.Steps, "steps", cfg.Steps, 1, "updates", "PPO updates")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *prPath == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("--predictor and --out are required")
	}
	pr, err := loadPredictor(*prPath, *model)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, "agent")
	cfg.Progress = func(s agent.Step) {
		if bar != nil {
			bar(s.Step, cfg.Steps)
		}
	}
	a, err := agent.Train(ctx, pr.Space(), pr, cfg)
	if err != nil {
		return err
	}
	if err := a.Save(*out); err != nil {
		return err
	}
	var grid []float64
	for r := cfg.RatioMin; r <= cfg.RatioMax+1e-9; r += 0.05 {
		grid = append(grid, r)
	}
	res, err := a.Versus(pr, grid)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"out": *out, "ratio_min": cfg.RatioMin, "ratio_max": cfg.RatioMax, "versus_uniform": res})
	}
	fmt.Fprintf(stdout, "agent for ratios [%.3g, %.3g] saved to %s\npredicted perplexity, agent vs uniform allocation:\n", cfg.RatioMin, cfg.RatioMax, *out)
	for _, r := range res {
		fmt.Fprintf(stdout, "  %.2f (removes %.4f): %10.3f vs %10.3f\n", r.Ratio, r.Achieved, expf(r.Score), expf(r.UniformScore))
	}
	return nil
}

// loadPredictor reads a predictor file, checked against model's space
// when a model is named.
func loadPredictor(path, model string) (*predictor.Predictor, error) {
	if model == "" {
		return readPredictor(path)
	}
	space, err := ppfnb.ModelSpace(model)
	if err != nil {
		return nil, err
	}
	return predictor.Load(path, space)
}
