package ppfnb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Methods of the experiment's table, in its order: the baselines with
// their own units (as ppf prune makes them), the uniform and OWL
// allocations with PPF's units (ablations: what the units give without
// PPF's allocation; FLAP's allocation with PPF's default units is FLAP
// itself), the agent's
// policy (dynamic pruning: the first agent, trained on the collection,
// and the final one, retrained once the searches' measurements joined
// the dataset) and the search's (static pruning).
const (
	MethodPPFUniform = "uniform/ppf-units"
	MethodPPFOWL     = "owl/ppf-units"
	MethodPPFFirst   = "ppf-dynamic/first"
	MethodPPFDynamic = "ppf-dynamic"
	MethodPPFStatic  = "ppf-static"
)

// ExperimentMethods lists the table's rows.
func ExperimentMethods() []string {
	return []string{prune.MethodUniform, prune.MethodWandaSP, prune.MethodOWL, prune.MethodFLAP, prune.MethodShortGPT,
		MethodPPFUniform, MethodPPFOWL, MethodPPFFirst, MethodPPFDynamic, MethodPPFStatic}
}

// ExperimentOptions sets RunExperiment. Start from DefaultExperiment.
type ExperimentOptions struct {
	Model     string    `json:"model"`
	Tokenizer string    `json:"tokenizer,omitempty"`
	Ratios    []float64 `json:"ratios"`
	Quick     bool      `json:"quick"`
	Seed      uint64    `json:"seed"`
	Backend   string    `json:"backend,omitempty"` // where perplexity is measured; "" or "cpu" for the engine (see LM.UseBackend)
	Text      string    `json:"text,omitempty"`    // in-domain text (calibration, search, report); DefaultText
	SeqLen    int       `json:"seqlen,omitempty"`  // window of every measurement; DefaultSeqLen
	Units     string    `json:"units,omitempty"`   // UnitsFLAP (default) or UnitsWanda

	Samples      int     `json:"samples"`       // policies collected
	SearchTokens int     `json:"search_tokens"` // length of the search slice
	ReportTokens int     `json:"report_tokens"` // length of the report slice; 0: the rest of the text
	WikiTokens   int     `json:"wiki_tokens"`   // WikiText-2 report tokens; 0: none
	TestFraction float64 `json:"test_fraction"` // measured policies held out to judge the predictor

	Predictor predictor.TrainConfig `json:"predictor"`
	Agent     agent.Config          `json:"agent"` // RatioMin/RatioMax 0: the ratios' range widened by 0.05
	Search    SearchOptions         `json:"search"`

	// Dir, when not "", keeps dataset.jsonl (resumed when present),
	// search.jsonl (the searches' measurements), predictor.json and
	// agent.json (the final ones, trained on both) and results.json.
	Dir string `json:"dir,omitempty"`

	Stage    func(name string)     `json:"-"` // a new step starts
	Log      func(msg string)      `json:"-"`
	Progress func(done, total int) `json:"-"` // within the current step
}

// DefaultExperiment returns the settings of docs/pipeline.md's results (quick:
// a smaller run that finishes in under 3 minutes on stories260K and two
// cores).
func DefaultExperiment(model string, quick bool) ExperimentOptions {
	o := ExperimentOptions{Model: model, Ratios: []float64{0.1, 0.2, 0.3, 0.4, 0.5}, Quick: quick, Seed: 1,
		Samples: 4000, SearchTokens: DefaultSearchTokens, WikiTokens: 100000, TestFraction: 0.2,
		Predictor: predictor.DefaultTrainConfig(), Agent: agent.DefaultConfig(),
		Search: SearchOptions{Rounds: 6, Population: 32, Offspring: 64, Generations: 30, Verify: 12}}
	if quick {
		o.Samples, o.WikiTokens = 300, 0
		o.ReportTokens = 32768 // the shared models' TinyStories report slices are shorter: all of them
		o.Agent.Steps = 200
		o.Search.Rounds, o.Search.Verify = 3, 6
	}
	o.Agent.RatioMin, o.Agent.RatioMax = 0, 0
	return o
}

// MethodResult is one cell of the table.
type MethodResult struct {
	Method   string           `json:"method"`
	Ratio    float64          `json:"ratio"`    // asked for
	Achieved float64          `json:"achieved"` // removed
	Report   float64          `json:"report"`   // perplexity on the report slice
	Wiki     float64          `json:"wiki,omitempty"`
	Search   float64          `json:"search,omitempty"` // on the search slice, when measured there
	Policy   predictor.Policy `json:"policy"`
}

// Timing compares, in one run, the three ways to judge a policy.
type Timing struct {
	EvalSeconds  float64 `json:"eval_seconds"`  // one real evaluation on the search slice
	EvalTokens   int     `json:"eval_tokens"`   // its predicted tokens
	ScoreSeconds float64 `json:"score_seconds"` // one predictor score
	AgentSeconds float64 `json:"agent_seconds"` // one agent call (a whole policy for a ratio)

	Stages map[string]float64 `json:"stages"` // seconds per step
	Total  float64            `json:"total"`
}

// ExperimentResult is what RunExperiment measured.
type ExperimentResult struct {
	Options ExperimentOptions `json:"options"`
	ModelID string            `json:"model_id"`
	Slices  Slices            `json:"slices"`
	Units   string            `json:"units"`

	Dense struct {
		Report float64 `json:"report"`
		Wiki   float64 `json:"wiki,omitempty"`
		Search float64 `json:"search"`
	} `json:"dense"`

	Dataset struct {
		Path     string `json:"path,omitempty"`
		Records  int    `json:"records"`
		Resumed  int    `json:"resumed"`
		Train    int    `json:"train"`
		Test     int    `json:"test"`
		Searched int    `json:"searched"` // measurements added by the searches
	} `json:"dataset"`

	Predictor  predictor.Report `json:"predictor"`   // on the held-out measured policies
	AgentRange [2]float64       `json:"agent_range"` // trained ratios
	AgentMeets bool             `json:"agent_meets"` // every agent policy met its ratio
	Methods    []MethodResult   `json:"methods"`     // every (method, ratio)
	Searches   []*SearchResult  `json:"searches"`    // one per ratio
	Timing     Timing           `json:"timing"`
}

// Cell returns the result of method at ratio, or nil.
func (r *ExperimentResult) Cell(method string, ratio float64) *MethodResult {
	for i := range r.Methods {
		if m := &r.Methods[i]; m.Method == method && math.Abs(m.Ratio-ratio) < 1e-9 {
			return m
		}
	}
	return nil
}

// RunExperiment runs PPF's whole pipeline on one model and measures every
// method on the held-out report slice: calibrate; collect measured
// policies on the search slice; train the predictor on most of them and
// judge it on the rest; train the agent against it; search at each ratio
// from the agent's and the baselines' policies; train the predictor and
// the agent again on every measurement; measure the baselines, the
// agents' policies (PPF-dynamic) and the searches' (PPF-static) on the
// report slice (and WikiText-2). Cancelling ctx stops it; with a Dir
// the collection resumes on the next run.
func RunExperiment(ctx context.Context, o ExperimentOptions) (*ExperimentResult, error) {
	t0 := time.Now()
	if len(o.Ratios) == 0 {
		return nil, fmt.Errorf("no ratios: pass at least one, e.g. 0.1,0.2,0.3,0.4,0.5")
	}
	if o.WikiTokens > 0 && sameFile(ResolveData(orDefault(o.Text, DefaultText)), ResolveData(DefaultWiki)) {
		o.WikiTokens = 0
		if o.Log != nil {
			o.Log("the in-domain text is WikiText-2 itself: no separate WikiText-2 report")
		}
	}
	x := &experimentRun{o: o, res: &ExperimentResult{Options: o, Timing: Timing{Stages: map[string]float64{}}}}
	defer x.close()
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"calibrate", x.calibrate},
		{"collect", x.collect},
		{"train predictor", x.trainPredictor},
		{"train agent", x.trainAgent},
		{"timing", x.timing},
		{"search", x.search},
		{"retrain", x.retrain},
		{"report", x.report},
	} {
		if o.Stage != nil {
			o.Stage(step.name)
		}
		start := time.Now()
		if err := step.run(ctx); err != nil {
			return nil, err
		}
		x.res.Timing.Stages[step.name] = time.Since(start).Seconds()
	}
	x.res.Timing.Total = time.Since(t0).Seconds()
	if o.Dir != "" {
		b, err := json.MarshalIndent(x.res, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(o.Dir, "results.json"), append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	return x.res, nil
}

// reportAll measures every method at every ratio on the report slices.
func reportAll(ctx context.Context, e *Evaluator, res *ExperimentResult, o ExperimentOptions, first, dyn, statics map[float64]predictor.Policy) error {
	slicesToRun := []string{SliceReport}
	if e.Slices.Wiki != "" {
		slicesToRun = append(slicesToRun, SliceWiki)
	}
	measure := func(plan *prune.Plan) (rep, wiki float64, err error) {
		for _, s := range slicesToRun {
			r, err := e.MeasurePlan(ctx, plan, s)
			if err != nil {
				return 0, 0, err
			}
			if s == SliceReport {
				rep = r.Perplexity
			} else {
				wiki = r.Perplexity
			}
		}
		return rep, wiki, nil
	}
	var err error
	if res.Dense.Report, res.Dense.Wiki, err = measure(nil); err != nil {
		return err
	}
	d, err := e.MeasurePlan(ctx, nil, SliceSearch)
	if err != nil {
		return err
	}
	res.Dense.Search = d.Perplexity
	methods := ExperimentMethods()
	total, done := len(methods)*len(o.Ratios), 0
	for _, r := range o.Ratios {
		for _, m := range methods {
			var plan *prune.Plan
			var err error
			switch m {
			case MethodPPFUniform, MethodPPFOWL:
				var p predictor.Policy
				if p, err = e.BaselinePolicy(strings.TrimSuffix(m, "/ppf-units"), r, o.Seed); err == nil {
					plan, err = e.Plan(p)
				}
			case MethodPPFFirst:
				plan, err = e.Plan(first[r])
			case MethodPPFDynamic:
				plan, err = e.Plan(dyn[r])
			case MethodPPFStatic:
				plan, err = e.Plan(statics[r])
			default:
				plan, err = e.BaselinePlan(m, r, o.Seed)
			}
			if err != nil {
				return fmt.Errorf("%s at %v: %w", m, r, err)
			}
			mr := MethodResult{Method: m, Ratio: r, Achieved: plan.Policy.Ratio(e.Shape), Policy: predictor.Policy(plan.Policy)}
			if mr.Report, mr.Wiki, err = measure(plan); err != nil {
				return fmt.Errorf("%s at %v: %w", m, r, err)
			}
			if m == MethodPPFStatic {
				mr.Search = res.Searches[slices.Index(o.Ratios, r)].Best.Perplexity
			}
			res.Methods = append(res.Methods, mr)
			done++
			if o.Progress != nil {
				o.Progress(done, total)
			}
		}
	}
	return nil
}

// measureTiming times one real evaluation on the search slice (the mean
// of three), one predictor score and one agent call (means of many).
func measureTiming(ctx context.Context, e *Evaluator, pr *predictor.Predictor, ag *agent.Agent, ratio float64, t *Timing) error {
	p, err := ag.Policy(ratio)
	if err != nil {
		return err
	}
	const evals = 3
	for range evals {
		r, err := e.Measure(ctx, p, SliceSearch)
		if err != nil {
			return err
		}
		t.EvalSeconds += r.Seconds / evals
		t.EvalTokens = r.Tokens
	}
	const scores = 20000
	start := time.Now()
	for range scores {
		if _, err := pr.Score(p); err != nil {
			return err
		}
	}
	t.ScoreSeconds = time.Since(start).Seconds() / scores
	const calls = 2000
	start = time.Now()
	for range calls {
		if err := ag.PolicyInto(ratio, p); err != nil {
			return err
		}
	}
	t.AgentSeconds = time.Since(start).Seconds() / calls
	return nil
}

// datasetPath is where a run keeps a dataset: name in dir, or, with no
// dir, a temporary path that cleanup removes.
func datasetPath(dir, name string) (path string, cleanup func(), err error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, name), func() {}, nil
	}
	f, err := os.CreateTemp("", "ppf-"+strings.TrimSuffix(name, ".jsonl")+"-*.jsonl")
	if err != nil {
		return "", nil, err
	}
	f.Close()
	os.Remove(f.Name()) // Collect creates it
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// AppendRecords appends records to a JSON Lines file (created if need
// be), one synced write each, as collections and searches keep them.
func AppendRecords(path string, d predictor.Dataset) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, r := range d {
		if err := writeRecord(f, r); err != nil {
			return err
		}
	}
	return f.Close()
}
