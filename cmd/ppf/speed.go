package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
)

// speedRun is one measurement of a model.
type speedRun struct {
	Params       int     `json:"params"`
	EvalTokensPS float64 `json:"eval_tokens_per_s"`   // tokens per second through perplexity windows
	DecodeTPS    float64 `json:"decode_tokens_per_s"` // one token per forward pass, with the cache
}

type speedReport struct {
	Model         string   `json:"model"`
	Method        string   `json:"method"`
	Ratio         float64  `json:"ratio"`
	AchievedRatio float64  `json:"achieved_ratio"`
	Data          string   `json:"data"`
	FirstToken    int      `json:"first_token"`
	Tokens        int      `json:"tokens"`
	SeqLen        int      `json:"seqlen"`
	Repeat        int      `json:"repeat"`
	Backend       string   `json:"backend"` // where eval ran; decoding is measured on the CPU engine only
	Dense         speedRun `json:"dense"`
	Sliced        speedRun `json:"sliced"`
	EvalSpeedup   float64  `json:"eval_speedup"`
	DecodeSpeedup float64  `json:"decode_speedup"`
}

func runSpeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("speed", "--model M [--ratio R] [--method METHOD] [--seqlen L] [--tokens N] [--json]", stderr)
	var f pruneFlags
	f.register(fs, prune.MethodUniform)
	ratioVar(fs, &f.opt.Ratio, "ratio", 0.5, "global pruning ratio of the sliced model")
	seqLen := count(fs, "seqlen", 0, 0, "tokens", "window length (0: 256 or the model's context)")
	tokens := count(fs, "tokens", 8192, 1, "tokens", "tokens of the --calib text, after the calibration tokens, run per measurement")
	repeat := count(fs, "repeat", 3, 1, "measurements", "measurements of each model, alternating; the fastest counts")
	asJSON := fs.Bool("json", false, "print one JSON object")
	backend := fs.String("backend", "cpu", backendUsage("where eval runs (decoding is measured on the CPU only)"))
	if err := parse(fs, args); err != nil {
		return err
	}
	onBackend, err := native.GetBackend(*backend)
	if err != nil {
		return err
	}
	if *repeat < 1 || *tokens < 1 {
		return fmt.Errorf("--repeat and --tokens must be positive")
	}
	p, err := f.prune(ctx, stderr)
	if err != nil {
		return err
	}
	m := p.Dense.Model
	sl := *seqLen
	if sl == 0 {
		sl = min(256, m.SeqLen)
	}
	ids := p.HeldOut()
	ids = ids[:min(len(ids), *tokens)]
	rep := speedReport{Model: f.model, Method: p.Plan.Method, Ratio: f.opt.Ratio, AchievedRatio: p.Plan.Policy.Ratio(prune.ShapeOf(m)),
		Data: p.Calib, FirstToken: p.CalibTokens, SeqLen: sl, Repeat: *repeat, Backend: onBackend.Name(),
		Dense: speedRun{Params: m.NumParams()}, Sliced: speedRun{Params: p.Model.NumParams()}}
	models := []*native.Model{m, p.Model}
	on := make([]native.Evaluator, 2) // nil: the CPU engine
	if onBackend.Name() != "cpu" {
		for k, model := range models {
			if on[k], err = onBackend.Load(model); err != nil {
				return fmt.Errorf("loading the %s model on %s: %w", []string{"dense", "sliced"}[k], onBackend.Name(), err)
			}
			defer on[k].Close()
		}
	}
	bar := newProgress(stderr, "speed")
	for r := 0; r < *repeat; r++ {
		for k, run := range []*speedRun{&rep.Dense, &rep.Sliced} {
			res, err := native.Perplexity(ctx, models[k], ids, native.EvalOptions{SeqLen: sl, On: on[k]})
			if err != nil {
				return err
			}
			rep.Tokens = res.Windows * sl
			run.EvalTokensPS = max(run.EvalTokensPS, float64(rep.Tokens)/res.Seconds)
			if on[k] == nil {
				tps, err := decodeSpeed(ctx, models[k], ids[:min(sl, len(ids))])
				if err != nil {
					return err
				}
				run.DecodeTPS = max(run.DecodeTPS, tps)
			}
			if bar != nil {
				bar(2*r+k+1, 2**repeat)
			}
		}
	}
	rep.EvalSpeedup = rep.Sliced.EvalTokensPS / rep.Dense.EvalTokensPS
	if rep.Dense.DecodeTPS > 0 {
		rep.DecodeSpeedup = rep.Sliced.DecodeTPS / rep.Dense.DecodeTPS
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%s, %s at ratio %.4g (achieved %.4f); %d tokens of %s from token %d, windows of %d, best of %d\n",
		f.model, rep.Method, rep.Ratio, rep.AchievedRatio, rep.Tokens, rep.Data, rep.FirstToken, sl, rep.Repeat)
	fmt.Fprintf(stdout, "         params   eval tokens/s  decode tokens/s\n")
	for _, row := range []struct {
		name string
		run  speedRun
	}{{"dense ", rep.Dense}, {"sliced", rep.Sliced}} {
		decode := "-"
		if row.run.DecodeTPS > 0 {
			decode = fmt.Sprintf("%.0f", row.run.DecodeTPS)
		}
		fmt.Fprintf(stdout, "%s %8d  %14.0f  %15s\n", row.name, row.run.Params, row.run.EvalTokensPS, decode)
	}
	if rep.DecodeSpeedup == 0 {
		fmt.Fprintf(stdout, "speed-up: %.2fx eval on %s (decoding is measured on the CPU engine only)\n", rep.EvalSpeedup, rep.Backend)
		return nil
	}
	fmt.Fprintf(stdout, "speed-up: %.2fx eval, %.2fx decode\n", rep.EvalSpeedup, rep.DecodeSpeedup)
	return nil
}

// decodeSpeed runs ids one token per forward pass, as generation does,
// and returns tokens per second.
func decodeSpeed(ctx context.Context, m *native.Model, ids []int) (float64, error) {
	d, err := native.TimeDecoding(ctx, m, ids)
	if err != nil {
		return 0, err
	}
	return float64(len(ids)) / d.Seconds(), nil
}
