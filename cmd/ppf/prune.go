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

// prune loads the model and prunes it as the flags say (ppfnb.Prune:
// calibrate when the method needs it, plan, slice).
func (f *pruneFlags) prune(ctx context.Context, stderr io.Writer) (*ppfnb.Pruned, error) {
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
	return ppfnb.Prune(ctx, lm, ppfnb.PruneOptions{Options: f.opt, Calib: f.calib, CalibTokens: f.calibTokens, CalibSeqLen: f.calSL,
		Progress: newProgress(stderr, "calibration")})
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
	m, plan := p.Dense.Model, p.Plan
	shape := prune.ShapeOf(m)
	rep := pruneReport{
		Model: f.model, Method: plan.Method, Score: plan.Score, Bias: plan.Bias, Ratio: *ratio,
		AchievedRatio: plan.Policy.Ratio(shape), ParamsBefore: m.NumParams(), ParamsAfter: p.Model.NumParams(),
		PrunableBefore: shape.Params(), PrunableAfter: plan.Policy.Params(shape), Policy: plan.Policy,
		Calib: calibReport{Data: p.Calib, Tokens: p.CalibTokens, SeqLen: p.CalibSeqLen, Used: p.Stats != nil},
	}
	rep.HeadRatios, rep.MLPRatios = plan.Policy.Ratios(shape)

	if *eval != "" {
		evalPath := ppfnb.ResolveData(*eval)
		ids, first := p.HeldOut(), p.CalibTokens
		if !samePath(evalPath, p.Calib) {
			text, err := native.ReadText(evalPath)
			if err != nil {
				return fmt.Errorf("--eval: %w", err)
			}
			if ids, err = tokenizer.EncodeContext(ctx, p.Tokenizer, text, true); err != nil {
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
			ev, err := onBackend.Load(p.Model)
			if err != nil {
				return fmt.Errorf("loading the pruned model on %s: %w", onBackend.Name(), err)
			}
			defer ev.Close()
			opt.On = ev
		}
		res, err := native.Perplexity(ctx, p.Model, ids, opt)
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
	fmt.Fprintf(stdout, "score %s, bias %v; calibrated on tokens [0, %d) of %s\n", rep.Score, rep.Bias, p.CalibTokens, p.Calib)
	fmt.Fprintln(stdout, "layer  kv groups (query heads)  channels")
	for i, lp := range rep.Policy.Layers {
		if lp.Drop {
			fmt.Fprintf(stdout, "%5d  dropped\n", i)
			continue
		}
		l := shape.Layers[i]
		fmt.Fprintf(stdout, "%5d  %-22s  %d/%d\n", i, fmt.Sprintf("%d/%d (%d/%d)", lp.HeadUnits, l.KVHeads, lp.HeadUnits*l.HeadsPerGroup(), l.Heads), lp.MLPUnits, l.Channels)
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
func savePruned(p *ppfnb.Pruned, dir string, rep pruneReport) error {
	if err := p.Save(dir); err != nil {
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
