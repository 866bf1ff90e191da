package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/native/tokenizer"
	"github.com/ppfkit/ppf/ppfnb"
)

const defaultCalib = "tinystories/TinyStories-valid-excerpt.txt"

// pruneFlags are the settings ppf prune and ppf speed share.
type pruneFlags struct {
	model, tok, calib  string
	calibTokens, calSL int
	opt                prune.Options
	bias               string
}

func (f *pruneFlags) register(fs *flag.FlagSet, method string) {
	fs.StringVar(&f.model, "model", "stories260K", "model name or path")
	fs.StringVar(&f.tok, "tokenizer", "", "tokenizer file (default: the one beside the model)")
	fs.StringVar(&f.calib, "calib", defaultCalib, "calibration text, a path or relative to $PPF_DATA; its first --calib-tokens tokens calibrate")
	countVar(fs, &f.calibTokens, "calib-tokens", prune.DefaultCalibTokens, 1, "tokens", "calibration tokens, from the start of --calib (tokenized once with BOS)")
	countVar(fs, &f.calSL, "calib-seqlen", prune.DefaultCalibSeqLen, 1, "tokens", "calibration window length in tokens")
	fs.StringVar(&f.opt.Method, "method", method, "allocation method: "+strings.Join(prune.Methods(), ", "))
	fs.StringVar(&f.opt.Score, "score", "", "score within layers for uniform, owl, random: magnitude, wanda-sp or fluctuation (default: the method's)")
	fs.StringVar(&f.bias, "bias", "auto", "compensate removed units with a bias from mean inputs: auto (flap only), on or off")
	countVar(fs, &f.opt.MinGroups, "min-groups", 1, 0, "groups", "key/value groups (with their query heads) every kept layer keeps (0: none)")
	countVar(fs, &f.opt.MinChannels, "min-channels", 1, 0, "channels", "MLP channels every kept layer keeps (0: none)")
	rangeVar(fs, &f.opt.OutlierM, "owl-m", 5, 0, math.Inf(1), true, true, "OWL: outlier threshold, times the layer's mean Wanda score")
	rangeVar(fs, &f.opt.Lambda, "owl-lambda", 0.08, 0, 0.5, true, false, "OWL: layer ratios span a band twice this wide around the target, in (0, 0.5]")
	fs.Uint64Var(&f.opt.Seed, "seed", 1, "seed of the random method")
}

// pruned is a model pruned by a plan, with what made it.
type pruned struct {
	lm        *ppfnb.LM
	ids       []int // the calibration text, tokenized once with BOS
	calibPath string
	stats     *prune.Stats
	plan      *prune.Plan
	small     *native.Model
}

// load loads the model, calibrates when the method needs it, makes the
// plan and slices the model.
func (f *pruneFlags) prune(ctx context.Context, stderr io.Writer) (*pruned, error) {
	switch f.bias {
	case "auto":
		f.opt.Bias = prune.BiasAuto
	case "on":
		f.opt.Bias = prune.BiasOn
	case "off":
		f.opt.Bias = prune.BiasOff
	default:
		return nil, fmt.Errorf("--bias %q: use auto, on or off", f.bias)
	}
	if f.opt.MinGroups == 0 {
		f.opt.MinGroups = -1 // the flag's 0 means none; Options' 0 means the default
	}
	if f.opt.MinChannels == 0 {
		f.opt.MinChannels = -1
	}
	lm, err := ppfnb.Load(f.model, f.tok)
	if err != nil {
		return nil, err
	}
	// The minimums are checked against the model, not clamped to it.
	groups, channels := 0, 0
	for _, l := range prune.ShapeOf(lm.Model).Layers {
		groups, channels = max(groups, l.KVHeads), max(channels, l.Channels)
	}
	if f.opt.MinGroups > groups {
		return nil, flagErrorf("--min-groups %d is more than the %d key/value groups of a layer of %s", f.opt.MinGroups, groups, f.model)
	}
	if f.opt.MinChannels > channels {
		return nil, flagErrorf("--min-channels %d is more than the %d MLP channels of a layer of %s", f.opt.MinChannels, channels, f.model)
	}
	p := &pruned{lm: lm, calibPath: ppfnb.ResolveData(f.calib)}
	text, err := native.ReadText(p.calibPath)
	if err != nil {
		return nil, fmt.Errorf("--calib: %w", err)
	}
	if p.ids, err = tokenizer.EncodeContext(ctx, lm.Tokenizer, text, true); err != nil {
		return nil, fmt.Errorf("--calib: %w", err)
	}
	if len(p.ids) < f.calibTokens {
		return nil, fmt.Errorf("%w: %s has %d tokens, fewer than --calib-tokens %d; use a longer text or fewer calibration tokens",
			prune.ErrCalibration, p.calibPath, len(p.ids), f.calibTokens)
	}
	needStats := f.opt.Method != prune.MethodUniform || (f.opt.Score != "" && f.opt.Score != prune.ScoreMagnitude) || f.opt.Bias == prune.BiasOn
	if needStats {
		p.stats, err = prune.Calibrate(ctx, lm.Model, p.ids[:f.calibTokens], prune.CalibOptions{
			SeqLen: min(f.calSL, lm.Model.SeqLen), Progress: newProgress(stderr, "calibration")})
		if err != nil {
			return nil, err
		}
	}
	if p.plan, err = prune.NewPlan(lm.Model, p.stats, f.opt); err != nil {
		return nil, err
	}
	if p.small, err = prune.Slice(lm.Model, p.plan); err != nil {
		return nil, err
	}
	return p, nil
}

// pruneReport is what ppf prune --json prints (and writes beside a saved model).
type pruneReport struct {
	Model          string       `json:"model"`
	Method         string       `json:"method"`
	Score          string       `json:"score"`
	Bias           bool         `json:"bias"`
	Ratio          float64      `json:"ratio"`
	AchievedRatio  float64      `json:"achieved_ratio"`
	ParamsBefore   int          `json:"params_before"`
	ParamsAfter    int          `json:"params_after"`
	PrunableBefore int          `json:"prunable_before"`
	PrunableAfter  int          `json:"prunable_after"`
	Policy         prune.Policy `json:"policy"`
	HeadRatios     []float64    `json:"head_ratios"`
	MLPRatios      []float64    `json:"mlp_ratios"`
	Calib          calibReport  `json:"calib"`
	Perplexity     *float64     `json:"perplexity,omitempty"`
	Eval           *evalReport  `json:"eval,omitempty"`
	Out            string       `json:"out,omitempty"`
}

type calibReport struct {
	Data   string `json:"data"`
	Tokens int    `json:"tokens"` // tokens [0, Tokens) of the text, tokenized once with BOS
	SeqLen int    `json:"seqlen"`
	Used   bool   `json:"used"` // false when the method needed no calibration
}

type evalReport struct {
	Data       string `json:"data"`
	FirstToken int    `json:"first_token"` // evaluation starts at this token of the text (after the calibration tokens when it is the calibration text)
	Text       string `json:"text"`
	native.EvalResult
}

func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prune", "--model M --ratio R --method METHOD [--calib FILE] [--eval FILE --seqlen L] [--out DIR] [--json]", stderr)
	var f pruneFlags
	f.register(fs, prune.MethodFLAP)
	ratioFlag := requiredRatio(fs, "ratio", "global pruning ratio in [0, 1): the fraction of q, k, v, o, gate, up, down parameters removed (required)")
	ratio := ratioFlag.p
	eval := fs.String("eval", "", "evaluate the pruned model on this text (the calibration text: only its tokens after --calib-tokens)")
	seqLen := count(fs, "seqlen", 0, 0, "tokens", "evaluation window length (0: 256 or the model's context)")
	maxTokens := new(int)
	countOrVar(fs, maxTokens, "max-tokens", 0, "all", "tokens", "evaluate only the first N tokens of the evaluation text, or all")
	out := fs.String("out", "", "save the pruned model here as a Hugging Face folder, with its tokenizer")
	asJSON := fs.Bool("json", false, "print one JSON object")
	backend := fs.String("backend", "cpu", backendUsage("where --eval runs the pruned model"))
	if err := parse(fs, args); err != nil {
		return err
	}
	onBackend, err := native.GetBackend(*backend) // before the slow part, so that a typo fails at once
	if err != nil {
		return err
	}
	if !ratioFlag.set {
		fs.Usage()
		return fmt.Errorf("--ratio is required: the fraction of prunable parameters to remove, in [0, 1)")
	}
	f.opt.Ratio = *ratio
	p, err := f.prune(ctx, stderr)
	if err != nil {
		return err
	}
	m := p.lm.Model
	shape := prune.ShapeOf(m)
	rep := pruneReport{
		Model: f.model, Method: p.plan.Method, Score: p.plan.Score, Bias: p.plan.Bias, Ratio: *ratio,
		AchievedRatio: p.plan.Policy.Ratio(shape), ParamsBefore: m.NumParams(), ParamsAfter: p.small.NumParams(),
		PrunableBefore: shape.Params(), PrunableAfter: p.plan.Policy.Params(shape), Policy: p.plan.Policy,
		Calib: calibReport{Data: p.calibPath, Tokens: f.calibTokens, SeqLen: min(f.calSL, m.SeqLen), Used: p.stats != nil},
	}
	rep.HeadRatios, rep.MLPRatios = p.plan.Policy.Ratios(shape)

	if *eval != "" {
		evalPath := ppfnb.ResolveData(*eval)
		ids, first := p.ids[f.calibTokens:], f.calibTokens
		if !samePath(evalPath, p.calibPath) {
			text, err := native.ReadText(evalPath)
			if err != nil {
				return fmt.Errorf("--eval: %w", err)
			}
			if ids, err = tokenizer.EncodeContext(ctx, p.lm.Tokenizer, text, true); err != nil {
				return fmt.Errorf("--eval: %w", err)
			}
			first = 0
		}
		sl := *seqLen
		if sl == 0 {
			sl = min(256, m.SeqLen)
		}
		opt := native.EvalOptions{SeqLen: sl, MaxTokens: *maxTokens, Progress: newProgress(stderr, "perplexity")}
		if onBackend.Name() != "cpu" {
			ev, err := onBackend.Load(p.small)
			if err != nil {
				return fmt.Errorf("loading the pruned model on %s: %w", onBackend.Name(), err)
			}
			defer ev.Close()
			opt.On = ev
		}
		res, err := native.Perplexity(ctx, p.small, ids, opt)
		if err != nil {
			return fmt.Errorf("evaluate on %s: %w", evalPath, err)
		}
		rep.Eval = &evalReport{Data: evalPath, FirstToken: first, Text: ppfnb.TextProtocol, EvalResult: res}
		rep.Perplexity = &res.Perplexity
	}
	if *out != "" {
		if err := savePruned(p, *out, rep); err != nil {
			return err
		}
		rep.Out = *out
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%s: %s at ratio %.4g (achieved %.4f): %d -> %d parameters (prunable %d -> %d)\n",
		f.model, rep.Method, rep.Ratio, rep.AchievedRatio, rep.ParamsBefore, rep.ParamsAfter, rep.PrunableBefore, rep.PrunableAfter)
	fmt.Fprintf(stdout, "score %s, bias %v; calibrated on tokens [0, %d) of %s\n", rep.Score, rep.Bias, f.calibTokens, p.calibPath)
	fmt.Fprintln(stdout, "layer  heads  channels")
	for i, lp := range rep.Policy.Layers {
		if lp.Drop {
			fmt.Fprintf(stdout, "%5d  dropped\n", i)
			continue
		}
		fmt.Fprintf(stdout, "%5d  %d/%d  %d/%d\n", i, lp.Heads, shape.Layers[i].Heads, lp.Channels, shape.Layers[i].Channels)
	}
	if e := rep.Eval; e != nil {
		fmt.Fprintf(stdout, "perplexity %.4f (nll %.4f) on %s from token %d\n  %d predicted tokens in %d windows of %d tokens; %.2fs\n",
			e.Perplexity, e.NLL, e.Data, e.FirstToken, e.Tokens, e.Windows, e.SeqLen, e.Seconds)
	}
	if rep.Out != "" {
		fmt.Fprintf(stdout, "saved to %s (use it with --model %s)\n", rep.Out, rep.Out)
	}
	return nil
}

// savePruned writes the sliced model as a Hugging Face folder, a copy of
// the tokenizer (so that --model DIR finds it) and ppf_prune.json, the report.
func savePruned(p *pruned, dir string, rep pruneReport) error {
	small := &ppfnb.LM{Name: dir, Model: p.small, TokenizerPath: p.lm.TokenizerPath}
	if err := small.Save(dir); err != nil {
		return err
	}
	rep.Out = dir
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ppf_prune.json"), append(b, '\n'), 0o644)
}

func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

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
	m := p.lm.Model
	sl := *seqLen
	if sl == 0 {
		sl = min(256, m.SeqLen)
	}
	ids := p.ids[f.calibTokens:]
	ids = ids[:min(len(ids), *tokens)]
	rep := speedReport{Model: f.model, Method: p.plan.Method, Ratio: f.opt.Ratio, AchievedRatio: p.plan.Policy.Ratio(prune.ShapeOf(m)),
		Data: p.calibPath, FirstToken: f.calibTokens, SeqLen: sl, Repeat: *repeat, Backend: onBackend.Name(),
		Dense: speedRun{Params: m.NumParams()}, Sliced: speedRun{Params: p.small.NumParams()}}
	models := []*native.Model{m, p.small}
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
	s := native.NewState(m, 1, len(ids))
	start := time.Now()
	for pos, id := range ids {
		if _, err := s.Forward(ctx, []int{id}, pos); err != nil {
			return 0, err
		}
	}
	return float64(len(ids)) / time.Since(start).Seconds(), nil
}
