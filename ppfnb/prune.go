package ppfnb

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/native/tokenizer"
)

// PruneOptions sets Prune: the engine's options (method, ratio, score,
// bias, minimums, OWL's settings, seed) and the calibration. Zero values
// take the defaults in brackets.
type PruneOptions struct {
	prune.Options
	Calib       string // calibration text, a path or a file under native.DataDir() [DefaultText]
	CalibTokens int    // tokens from the start of Calib that calibrate [prune.DefaultCalibTokens]
	CalibSeqLen int    // calibration window, at most the model's context [prune.DefaultCalibSeqLen]

	Progress func(done, total int) // calibration windows, when the method calibrates
}

// Pruned is a model pruned by Prune, with what made it.
type Pruned struct {
	// LM is the sliced model with the dense model's tokenizer: Evaluate,
	// Generate and Save it as any other.
	*LM
	Dense *LM
	Plan  *prune.Plan
	Stats *prune.Stats // nil when the method needed no calibration

	Calib       string // the calibration text's path
	CalibIDs    []int  // the whole calibration text, tokenized once with BOS
	CalibTokens int    // CalibIDs[:CalibTokens] calibrated (when Stats is not nil)
	CalibSeqLen int
}

// HeldOut is the calibration text after the calibration tokens: text the
// pruning never saw, to measure on.
func (p *Pruned) HeldOut() []int { return p.CalibIDs[p.CalibTokens:] }

// Prune prunes lm as the options say, the chain `ppf prune` runs:
// calibrate on the first CalibTokens tokens of the calibration text when
// the method needs it, plan (the policy and the units each layer keeps,
// with compensation biases), and slice the model to the plan. lm is left
// dense.
func Prune(ctx context.Context, lm *LM, o PruneOptions) (*Pruned, error) {
	if lm == nil || lm.Model == nil || lm.Tokenizer == nil {
		return nil, fmt.Errorf("prune: the LM has no model or no tokenizer: make LMs with Load")
	}
	if o.Calib == "" {
		o.Calib = DefaultText
	}
	if o.CalibTokens == 0 {
		o.CalibTokens = prune.DefaultCalibTokens
	}
	if o.CalibSeqLen == 0 {
		o.CalibSeqLen = prune.DefaultCalibSeqLen
	}
	if o.CalibTokens < 0 || o.CalibSeqLen < 0 {
		return nil, fmt.Errorf("prune: CalibTokens %d and CalibSeqLen %d must be positive (or 0 for the defaults)", o.CalibTokens, o.CalibSeqLen)
	}
	// The minimums are checked against the model, not clamped to it as
	// the engine's Shape does.
	groups, channels := 0, 0
	for _, l := range prune.ShapeOf(lm.Model).Layers {
		groups, channels = max(groups, l.KVHeads), max(channels, l.Channels)
	}
	if o.MinGroups > groups {
		return nil, fmt.Errorf("prune: MinGroups %d is more than the %d key/value groups of a layer of %s (ppf: --min-groups)", o.MinGroups, groups, lm.Name)
	}
	if o.MinChannels > channels {
		return nil, fmt.Errorf("prune: MinChannels %d is more than the %d MLP channels of a layer of %s (ppf: --min-channels)", o.MinChannels, channels, lm.Name)
	}
	p := &Pruned{Dense: lm, Calib: ResolveData(o.Calib), CalibTokens: o.CalibTokens, CalibSeqLen: min(o.CalibSeqLen, lm.Model.SeqLen)}
	text, err := native.ReadText(p.Calib)
	if err != nil {
		return nil, fmt.Errorf("calibration text: %w", err)
	}
	if p.CalibIDs, err = tokenizer.EncodeContext(ctx, lm.Tokenizer, text, true); err != nil {
		return nil, fmt.Errorf("calibration text: %w", err)
	}
	if len(p.CalibIDs) < o.CalibTokens {
		return nil, fmt.Errorf("%w: %s has %d tokens, fewer than the %d calibration tokens asked for; use a longer text or fewer calibration tokens",
			prune.ErrCalibration, p.Calib, len(p.CalibIDs), o.CalibTokens)
	}
	if o.NeedsStats() {
		p.Stats, err = prune.Calibrate(ctx, lm.Model, p.CalibIDs[:o.CalibTokens], prune.CalibOptions{SeqLen: p.CalibSeqLen, Progress: o.Progress})
		if err != nil {
			return nil, err
		}
	}
	if p.Plan, err = prune.NewPlan(lm.Model, p.Stats, o.Options); err != nil {
		return nil, err
	}
	small, err := prune.Slice(lm.Model, p.Plan)
	if err != nil {
		return nil, err
	}
	name := lm.Name + "-" + p.Plan.Method + "-" + strconv.FormatFloat(o.Ratio, 'g', 4, 64)
	p.LM = &LM{Name: name, TokenizerPath: lm.TokenizerPath, Model: small, Tokenizer: lm.Tokenizer}
	return p, nil
}
