package ppfnb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/native/tokenizer"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// ErrDiverged is wrapped when a pruned model's perplexity is NaN or
// infinite: the policy (or the model's weights) broke it, and the number
// cannot train or rank anything.
var ErrDiverged = errors.New("perplexity is not finite")

// The text slices. PPF's steps each read their own part of one text, so
// that nothing is tuned on what it is judged on.
const (
	SliceSearch = "search" // what collection and search measure policies on
	SliceReport = "report" // held out: the experiment's table, touched by nothing else
	SliceWiki   = "wiki"   // WikiText-2, an out-of-domain report text

	// DefaultText is the in-domain text of the two shared models.
	DefaultText = "tinystories/TinyStories-valid-excerpt.txt"
	// DefaultWiki is WikiText-2's test split.
	DefaultWiki = "wikitext-2-raw/wiki.test.raw"
	// DefaultSearchTokens is the length of the search slice.
	DefaultSearchTokens = 4096
	// DefaultSeqLen is the window of every perplexity measured here (as
	// docs/pruning.md's tables).
	DefaultSeqLen = 256
)

// Units say how the units a policy keeps are chosen inside each layer:
// a policy says how many heads and channels each layer keeps, the units
// say which. PPF decides the allocation, not the units, so one fixed
// choice serves every policy it measures.
const (
	// UnitsFLAP keeps the units of highest FLAP fluctuation score and
	// compensates the removed ones with a bias from mean inputs. FLAP's own
	// policy measured with these units is exactly the FLAP baseline, so
	// any allocation PPF finds competes on equal terms. The default.
	UnitsFLAP = "flap"
	// UnitsWanda keeps the units of highest Wanda-sp score, without bias.
	UnitsWanda = "wanda-sp"
)

// TokenRange is [From, To) of a tokenized text.
type TokenRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Len is To - From.
func (r TokenRange) Len() int { return r.To - r.From }

// Slices records which tokens each step reads. The in-domain text is
// tokenized once, with BOS, and cut into three disjoint ranges:
// calibration (the first CalibTokens, as ppf prune), search (the next
// SearchTokens: collection and search measure policies here) and report
// (the rest: only the final table reads it). WikiText-2 (its first
// WikiTokens, tokenized once with BOS) is a second report text.
type Slices struct {
	Text        string     `json:"text"`
	Tokens      int        `json:"tokens"` // of the whole text
	Calib       TokenRange `json:"calib"`
	Search      TokenRange `json:"search"`
	Report      TokenRange `json:"report"`
	Wiki        string     `json:"wiki,omitempty"`
	WikiTokens  int        `json:"wiki_tokens,omitempty"`
	SeqLen      int        `json:"seqlen"`       // window of every measurement, from position 0, non-overlapping
	CalibSeqLen int        `json:"calib_seqlen"` // window of calibration
}

// String describes the split in one line per slice.
func (s Slices) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "text %s: %d tokens (tokenized once with BOS)\n", s.Text, s.Tokens)
	fmt.Fprintf(&sb, "  calibration tokens [%d, %d) in windows of %d\n", s.Calib.From, s.Calib.To, s.CalibSeqLen)
	fmt.Fprintf(&sb, "  search      tokens [%d, %d) in windows of %d (collection, search)\n", s.Search.From, s.Search.To, s.SeqLen)
	fmt.Fprintf(&sb, "  report      tokens [%d, %d) in windows of %d (held out: the table only)\n", s.Report.From, s.Report.To, s.SeqLen)
	if s.Wiki != "" {
		fmt.Fprintf(&sb, "  wiki        %s, first %d tokens in windows of %d (report only)\n", s.Wiki, s.WikiTokens, s.SeqLen)
	}
	return sb.String()
}

// EvaluatorOptions sets NewEvaluator. Zero values take the defaults.
type EvaluatorOptions struct {
	Model     string // name or path (see Load)
	Tokenizer string // "" for the one beside the model
	Text      string // in-domain text; DefaultText

	CalibTokens  int // prune.DefaultCalibTokens
	CalibSeqLen  int // prune.DefaultCalibSeqLen
	SearchTokens int // DefaultSearchTokens
	ReportTokens int // length of the report slice; 0: the rest of the text
	SeqLen       int // DefaultSeqLen, or the model's context if shorter

	// WikiTokens > 0 adds the first WikiTokens tokens of Wiki
	// (DefaultWiki) as a report text.
	Wiki       string
	WikiTokens int

	Units       string // UnitsFLAP (default) or UnitsWanda
	MinGroups   int    // least KV groups a kept layer keeps; 0 means 1, negative none
	MinChannels int    // least channels; 0 means 1, negative none

	// Backend runs the measurements ("cpu", the default, or a GPU
	// backend such as "cuda-bf16"; see LM.UseBackend). Calibration runs
	// on the CPU engine either way.
	Backend string

	// Progress, when not nil, follows calibration.
	Progress func(done, total int)
}

// Evaluator measures pruning policies for real on one loaded model: it
// applies a policy as masks (prune.PlanFor, prune.Apply), measures
// perplexity on a slice with all cores, and resets the masks. It holds
// the calibration statistics, so baselines' plans come from it too.
// Measurements take a lock: one at a time, since masks live in the model.
type Evaluator struct {
	LM      *LM
	ModelID string
	Shape   prune.Shape
	Space   predictor.Space
	Stats   *prune.Stats
	Slices  Slices
	Units   string

	opt        prune.Options // Score and Bias of the units, the minimums
	text, wiki []int
	mu         sync.Mutex
	dense      []denseWindow // the dense model's distribution on the search windows, for KL fitness; made on first use
}

// NewEvaluator loads the model, tokenizes the texts, cuts the slices and
// calibrates (a few seconds at most for the shared models).
func NewEvaluator(ctx context.Context, o EvaluatorOptions) (*Evaluator, error) {
	if o.Backend != "" {
		// a misspelt backend fails before loading and calibrating
		if _, err := native.GetBackend(o.Backend); err != nil {
			return nil, err
		}
	}
	lm, err := Load(o.Model, o.Tokenizer)
	if err != nil {
		return nil, err
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	textPath := ResolveData(orDefault(o.Text, DefaultText))
	raw, err := native.ReadText(textPath)
	if err != nil {
		return nil, err
	}
	ids, err := tokenizer.EncodeContext(ctx, lm.Tokenizer, raw, true)
	if err != nil {
		return nil, err
	}
	sl := Slices{Text: textPath, Tokens: len(ids), SeqLen: min(def(o.SeqLen, DefaultSeqLen), lm.Model.SeqLen),
		CalibSeqLen: min(def(o.CalibSeqLen, prune.DefaultCalibSeqLen), lm.Model.SeqLen)}
	nc, ns := def(o.CalibTokens, prune.DefaultCalibTokens), def(o.SearchTokens, DefaultSearchTokens)
	sl.Calib = TokenRange{0, nc}
	sl.Search = TokenRange{nc, nc + ns}
	sl.Report = TokenRange{nc + ns, len(ids)}
	if o.ReportTokens > 0 {
		sl.Report.To = min(len(ids), nc+ns+o.ReportTokens)
	}
	if nc < sl.CalibSeqLen || ns < sl.SeqLen || sl.Report.Len() < sl.SeqLen || sl.SeqLen < 2 {
		return nil, fmt.Errorf("%s has %d tokens: %d calibration and %d search tokens leave %d for the report slice; each needs at least one window (calibration %d, others %d): use fewer search tokens (SearchTokens, --search-tokens), a shorter window (SeqLen, --seqlen) or a longer text",
			textPath, len(ids), nc, ns, sl.Report.Len(), sl.CalibSeqLen, sl.SeqLen)
	}
	e := &Evaluator{LM: lm, ModelID: ModelID(o.Model), Slices: sl, Units: orDefault(o.Units, UnitsFLAP), text: ids,
		opt: prune.Options{MinGroups: o.MinGroups, MinChannels: o.MinChannels}}
	switch e.Units {
	case UnitsFLAP:
		e.opt.Score, e.opt.Bias = prune.ScoreFluctuation, prune.BiasOn
	case UnitsWanda:
		e.opt.Score, e.opt.Bias = prune.ScoreWandaSP, prune.BiasOff
	default:
		return nil, fmt.Errorf("units %q: use %s or %s", e.Units, UnitsFLAP, UnitsWanda)
	}
	if o.WikiTokens > 0 {
		sl := &e.Slices
		sl.Wiki = ResolveData(orDefault(o.Wiki, DefaultWiki))
		if sameFile(sl.Wiki, textPath) {
			return nil, fmt.Errorf("the WikiText-2 report text %s is the in-domain text, whose first tokens calibrate and search: leave it out (WikiTokens 0, --wiki-tokens 0)", sl.Wiki)
		}
		if e.wiki, err = tokenizePrefix(ctx, lm, sl.Wiki, o.WikiTokens); err != nil {
			return nil, err
		}
		sl.WikiTokens = len(e.wiki)
	}
	e.Shape = e.opt.Shape(lm.Model)
	if e.Space, err = SpaceOf(e.ModelID, e.Shape); err != nil {
		return nil, err
	}
	if e.Stats, err = calibrate(ctx, lm.Model, ids[sl.Calib.From:sl.Calib.To], sl.CalibSeqLen, o.Progress); err != nil {
		return nil, err
	}
	if err := lm.UseBackend(o.Backend); err != nil {
		return nil, err
	}
	return e, nil
}

// calibrate is prune.Calibrate run one window at a time, the windows'
// sums added in window order. prune.Calibrate shares windows among as
// many workers as there are cores and adds the workers' sums, so its last
// bits depend on the core count; here they do not, and shards of a
// collection on machines of different sizes draw the same policies and
// measure the same perplexities.
func calibrate(ctx context.Context, m *native.Model, tokens []int, seqLen int, progress func(done, total int)) (*prune.Stats, error) {
	windows := len(tokens) / seqLen
	var st *prune.Stats
	for w := range windows {
		one, err := prune.Calibrate(ctx, m, tokens[w*seqLen:(w+1)*seqLen], prune.CalibOptions{SeqLen: seqLen})
		if err != nil {
			return nil, err
		}
		if st == nil {
			st = one
		} else {
			st.Tokens += one.Tokens
			st.Windows += one.Windows
			for i := range st.Layers {
				l, o := &st.Layers[i], &one.Layers[i]
				for _, mo := range [][2]*prune.Moments{{&l.AttnIn, &o.AttnIn}, {&l.AttnOut, &o.AttnOut}, {&l.MLPIn, &o.MLPIn}, {&l.DownIn, &o.DownIn}} {
					mo[0].N += mo[1].N
					for j := range mo[0].Sum {
						mo[0].Sum[j] += mo[1].Sum[j]
						mo[0].SumSq[j] += mo[1].SumSq[j]
					}
				}
				l.CosSum += o.CosSum
				l.CosN += o.CosN
			}
		}
		if progress != nil {
			progress(w+1, windows)
		}
	}
	if st == nil {
		return nil, fmt.Errorf("%w: %d calibration tokens are fewer than one window of %d", prune.ErrCalibration, len(tokens), seqLen)
	}
	return st, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// tokenizePrefix returns the first n tokens of the text at path,
// tokenized once with BOS. Only a prefix of the text, cut at a line end
// well beyond n tokens, is tokenized: the tokens before the cut are those
// of the whole text, and WikiText-2 is 1.3 MB.
func tokenizePrefix(ctx context.Context, lm *LM, path string, n int) ([]int, error) {
	raw, err := native.ReadText(path)
	if err != nil {
		return nil, err
	}
	for chars := 8 * n; ; chars *= 2 {
		text := raw
		if chars < len(raw) {
			if nl := strings.IndexByte(raw[chars:], '\n'); nl >= 0 {
				text = raw[:chars+nl+1]
			}
		}
		ids, err := tokenizer.EncodeContext(ctx, lm.Tokenizer, text, true)
		if err != nil {
			return nil, err
		}
		if len(ids) > n+1024 || len(text) == len(raw) {
			return ids[:min(n, len(ids))], nil
		}
	}
}

// tokens returns the token ids of a slice.
func (e *Evaluator) tokens(slice string) ([]int, error) {
	s := e.Slices
	switch slice {
	case SliceSearch:
		return e.text[s.Search.From:s.Search.To], nil
	case SliceReport:
		return e.text[s.Report.From:s.Report.To], nil
	case SliceWiki:
		if e.wiki == nil {
			return nil, fmt.Errorf("no WikiText-2 slice: set EvaluatorOptions.WikiTokens")
		}
		return e.wiki, nil
	}
	return nil, fmt.Errorf("unknown slice %q: use %s, %s or %s", slice, SliceSearch, SliceReport, SliceWiki)
}

// Plan makes the engine's plan for a predictor policy with the
// evaluator's units.
func (e *Evaluator) Plan(p predictor.Policy) (*prune.Plan, error) {
	return prune.PlanFor(e.LM.Model, e.Stats, prune.Policy(clonePolicy(p)), e.opt)
}

// BaselinePlan is the plan of one of prune.Methods() at ratio, with the
// method's own units (as ppf prune makes it); seed is random's.
func (e *Evaluator) BaselinePlan(method string, ratio float64, seed uint64) (*prune.Plan, error) {
	opt := prune.Options{Method: method, Ratio: ratio, Seed: seed, MinGroups: e.opt.MinGroups, MinChannels: e.opt.MinChannels}
	return prune.NewPlan(e.LM.Model, e.Stats, opt)
}

// BaselinePolicy is a baseline's allocation at ratio.
func (e *Evaluator) BaselinePolicy(method string, ratio float64, seed uint64) (predictor.Policy, error) {
	plan, err := e.BaselinePlan(method, ratio, seed)
	if err != nil {
		return predictor.Policy{}, err
	}
	return predictor.Policy(plan.Policy), nil
}

// Measure measures the perplexity of policy p (with the evaluator's
// units) on a slice.
func (e *Evaluator) Measure(ctx context.Context, p predictor.Policy, slice string) (native.EvalResult, error) {
	plan, err := e.Plan(p)
	if err != nil {
		return native.EvalResult{}, err
	}
	return e.MeasurePlan(ctx, plan, slice)
}

// MeasurePlan measures a plan on a slice; a nil plan measures the dense
// model. A NaN or infinite perplexity is an error wrapping ErrDiverged.
func (e *Evaluator) MeasurePlan(ctx context.Context, plan *prune.Plan, slice string) (native.EvalResult, error) {
	ids, err := e.tokens(slice)
	if err != nil {
		return native.EvalResult{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if plan != nil {
		mk, err := prune.Apply(e.LM.Model, plan)
		if err != nil {
			return native.EvalResult{}, err
		}
		defer mk.Reset()
	}
	opt, err := e.LM.withBackend(native.EvalOptions{SeqLen: e.Slices.SeqLen})
	if err != nil {
		return native.EvalResult{}, err
	}
	res, err := native.Perplexity(ctx, e.LM.Model, ids, opt)
	if err != nil {
		return res, err
	}
	if math.IsNaN(res.Perplexity) || math.IsInf(res.Perplexity, 0) {
		return res, fmt.Errorf("%w: %v on the %s slice; the pruned model is broken (NaN or infinite weights or biases?): check the model file and the policy",
			ErrDiverged, res.Perplexity, slice)
	}
	return res, nil
}

// Close frees what the evaluator's backend holds (see LM.Close).
func (e *Evaluator) Close() error { return e.LM.Close() }

// Record measures p on the search slice and returns it as a dataset
// record tagged with source.
func (e *Evaluator) Record(ctx context.Context, p predictor.Policy, source string) (predictor.Record, error) {
	res, err := e.Measure(ctx, p, SliceSearch)
	if err != nil {
		return predictor.Record{}, err
	}
	r, err := predictor.NewRecord(e.Space, p, res.Perplexity, res.NLL, res.Tokens, res.Seconds, source)
	r.Units, r.Backend = e.Units, e.LM.Backend()
	return r, err
}

// SearchTokens is the number of predicted tokens of one measurement on
// the search slice: the Tokens field of every record measured here.
func (e *Evaluator) SearchTokens() int {
	w := e.Slices.Search.Len() / e.Slices.SeqLen
	return w * (e.Slices.SeqLen - 1)
}

// CheckDataset reports whether the records of d were measured for this
// evaluator: its model and space, its units, and a search slice of the
// same length.
func (e *Evaluator) CheckDataset(d predictor.Dataset) error {
	for i, r := range d {
		if err := r.CheckSpace(e.Space); err != nil {
			return fmt.Errorf("record %d: %w", i+1, err)
		}
		if r.Units != "" && r.Units != e.Units {
			return fmt.Errorf("record %d kept %s units, this evaluator keeps %s units (Units differ?); a policy's perplexity depends on which units it keeps: use the collection's units (ppf: --units)",
				i+1, r.Units, e.Units)
		}
		if r.Tokens != e.SearchTokens() {
			return fmt.Errorf("record %d was measured on %d tokens, this search slice has %d (SearchTokens or SeqLen differ? ppf: --search-tokens, --seqlen); use the same slice settings as the collection",
				i+1, r.Tokens, e.SearchTokens())
		}
	}
	return nil
}
