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

// DuelOptions sets RunDuel. Start from DefaultDuel.
type DuelOptions struct {
	Model     string    `json:"model"`
	Tokenizer string    `json:"tokenizer,omitempty"`
	Backend   string    `json:"backend,omitempty"`
	Text      string    `json:"text,omitempty"`
	Units     string    `json:"units,omitempty"`
	SeqLen    int       `json:"seqlen,omitempty"`
	Ratios    []float64 `json:"ratios"`
	Seeds     int       `json:"seeds"`   // runs of each method at each ratio, seeds 1..Seeds
	Methods   []string  `json:"methods"` // of DuelMethods; nil: all
	Quick     bool      `json:"quick"`

	SearchTokens int `json:"search_tokens"`
	ReportTokens int `json:"report_tokens"` // 0: the rest of the text
	WikiTokens   int `json:"wiki_tokens"`   // WikiText-2's first tokens as a second report text; 0: none

	// Budget is every method's real evaluations at each ratio, in whole
	// search-slice evaluations: Budget x the slice's tokens.
	Budget int `json:"budget"`
	// Fitness is EvoPress's and random search's; PPF measures perplexity,
	// what its predictor learns.
	Fitness string `json:"fitness"`
	// Collect is PPF's collection per seed. One collection serves every
	// ratio (and the agent), but each ratio is charged all of it.
	Collect int `json:"collect"`
	// CollectNear > 0 draws PPF's collection at ratios within CollectNear
	// of the duel's ratios instead of PPF's usual wide range; Local is the
	// search's (see SearchOptions.Local).
	CollectNear float64 `json:"collect_near,omitempty"`
	Local       float64 `json:"local,omitempty"`
	Checkpoints int     `json:"checkpoints"` // points of the anytime curves: Budget/2^k, k < Checkpoints

	EvoPress  EvoPressOptions       `json:"evopress"` // the selection schedule
	Search    SearchOptions         `json:"search"`   // PPF's search; its rounds fill the budget
	Predictor predictor.TrainConfig `json:"predictor"`
	Agent     agent.Config          `json:"agent"`

	Dir string `json:"dir,omitempty"` // keeps duel.json, duel.md and duel.png

	Stage    func(name string)     `json:"-"`
	Log      func(msg string)      `json:"-"`
	Progress func(done, total int) `json:"-"`
}

// DefaultDuel returns the settings of the duel in docs/duel.md (quick: two
// seeds and a quarter of the budget, under three minutes on stories260K
// and two cores).
func DefaultDuel(model string, quick bool) DuelOptions {
	o := DuelOptions{Model: model, Ratios: []float64{0.3, 0.5}, Seeds: 3, Quick: quick,
		SearchTokens: DefaultSearchTokens, WikiTokens: 50000, Budget: 400, Fitness: FitnessKL, Checkpoints: 7,
		Predictor: predictor.DefaultTrainConfig(), Agent: agent.DefaultConfig(),
		Search: SearchOptions{Population: 32, Offspring: 64, Generations: 30, Verify: 12}}
	if quick {
		o.Budget, o.Seeds, o.WikiTokens, o.Checkpoints = 100, 2, 8192, 5
		o.Agent.Steps = 200
		o.Search.Verify = 6
	}
	o.Collect = o.Budget / 2
	o.Agent.RatioMin, o.Agent.RatioMax = 0, 0
	return o
}

// PPF's two entries in the duel. MethodPPF is the pipeline as ppf
// experiment runs it: a wide collection (half the budget by default),
// the predictor and the agent, then a search that measures its Verify
// best candidates per round and refits on everything. MethodPPFFocused
// spends its evaluations where the duel looks, the variant that did best
// of those tried (see docs/duel.md): a quarter of the budget collected at
// ratios within 0.05 of the duel's, refits on records within 0.05 of the
// search's ratio, and 24 candidates per round screened on 2 windows
// before 4 are measured on the whole slice.
const (
	MethodPPF        = "ppf"
	MethodPPFFocused = "ppf-focused"
)

// ppfVariant is how a PPF entry spends its budget.
type ppfVariant struct {
	collect        int
	near, local    float64
	screen, verify int
}

func (o DuelOptions) ppfVariant(method string) ppfVariant {
	if method == MethodPPFFocused {
		return ppfVariant{collect: max(1, o.Budget/4), near: 0.05, local: 0.05, screen: 24, verify: 4}
	}
	return ppfVariant{collect: o.Collect, near: o.CollectNear, local: o.Local, screen: o.Search.Screen, verify: o.Search.Verify}
}

// trainedPPF is a PPF entry's collection and what was trained on it.
type trainedPPF struct {
	data predictor.Dataset
	pr   *predictor.Predictor
	ag   *agent.Agent
}

// trainPPF collects a PPF entry's policies for one seed and trains its
// predictor and agent.
func trainPPF(ctx context.Context, e *Evaluator, o DuelOptions, method string, seed uint64, acfg agent.Config) (*trainedPPF, error) {
	v := o.ppfVariant(method)
	lo, hi := slices.Min(o.Ratios), slices.Max(o.Ratios)
	path, cleanup, err := datasetPath(o.Dir, fmt.Sprintf("dataset-%s-seed%d.jsonl", method, seed))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	copt := CollectOptions{Samples: v.collect, Seed: seed, Progress: o.Progress,
		RatioMin: min(DefaultRatioMin, max(0.01, acfg.RatioMin-0.03)), RatioMax: max(DefaultRatioMax, acfg.RatioMax+0.05)}
	if v.near > 0 {
		copt.RatioMin, copt.RatioMax = max(0.01, lo-v.near), min(e.Space.MaxRatio()-0.01, hi+v.near)
	}
	cres, err := Collect(ctx, e, path, copt)
	if err != nil {
		return nil, err
	}
	pcfg := o.Predictor
	pcfg.Seed = seed
	pr, err := predictor.Train(ctx, e.Space, cres.Records, pcfg)
	if err != nil {
		return nil, err
	}
	acfg.Seed = seed
	ag, err := agent.Train(ctx, e.Space, pr, acfg)
	if err != nil {
		return nil, err
	}
	return &trainedPPF{data: cres.Records, pr: pr, ag: ag}, nil
}

// AnytimePoint is a search's incumbent judged on the report texts once a
// share of the budget was spent.
type AnytimePoint struct {
	Tokens int64   `json:"tokens"` // real evaluation tokens spent
	Has    bool    `json:"has"`    // the method had a policy by then (PPF has none while it collects)
	Report float64 `json:"report,omitempty"`
	Wiki   float64 `json:"wiki,omitempty"`
}

// DuelRun is one method's search at one ratio with one seed.
type DuelRun struct {
	Method  string           `json:"method"`
	Ratio   float64          `json:"ratio"`
	Seed    uint64           `json:"seed"`
	Fitness string           `json:"fitness"`
	Spent   Ledger           `json:"spent"`
	Changes int              `json:"changes"` // times its incumbent changed
	Best    predictor.Policy `json:"best"`
	Report  float64          `json:"report"` // of Best
	Wiki    float64          `json:"wiki,omitempty"`
	Points  []AnytimePoint   `json:"points"`
	Seconds float64          `json:"seconds"`
}

// PredictorQuality judges PPF's predictors where the searches look: on
// policies EvoPress's run passed through, measured for real (outside
// every budget), and on PPF's own verified candidates.
type PredictorQuality struct {
	Method   string  `json:"method"` // which PPF entry
	Ratio    float64 `json:"ratio"`
	Seed     uint64  `json:"seed"`
	Policies int     `json:"policies"`
	// MAE of log perplexity and Spearman between predicted and measured,
	// for the predictor trained on the collection and for the search's
	// last refit.
	FirstMAE      float64 `json:"first_mae"`
	FinalMAE      float64 `json:"final_mae"`
	FirstSpearman float64 `json:"first_spearman"`
	FinalSpearman float64 `json:"final_spearman"`
	// Mean Spearman over PPF's search rounds' verified candidates.
	RoundSpearman float64 `json:"round_spearman"`
	// DynamicReport is the first agent's policy's report perplexity
	// (PPF-dynamic); StaticReport PPF's search's.
	DynamicReport float64 `json:"dynamic_report"`
	StaticReport  float64 `json:"static_report"`

	first, final *predictor.Predictor
	dynamic      predictor.Policy
}

// DuelResult is what RunDuel measured.
type DuelResult struct {
	Options     DuelOptions `json:"options"`
	ModelID     string      `json:"model_id"`
	Slices      Slices      `json:"slices"`
	Units       string      `json:"units"`
	SliceTokens int64       `json:"slice_tokens"` // tokens of one evaluation on the whole search slice
	Dense       struct {
		Report float64 `json:"report"`
		Wiki   float64 `json:"wiki,omitempty"`
	} `json:"dense"`
	Baselines []MethodResult     `json:"baselines"` // no real evaluations spent
	Runs      []DuelRun          `json:"runs"`
	Quality   []PredictorQuality `json:"quality"`
	Seconds   float64            `json:"seconds"`
}

// Allocation heuristics measured with PPF's units: what the allocation
// alone is worth (wanda-sp allocates as uniform).
var ppfUnitBaselines = []string{prune.MethodUniform, prune.MethodOWL, prune.MethodFLAP}

// unitsName is a heuristic's name when measured with PPF's units.
func unitsName(method string) string { return method + "/ppf-units" }

// RunDuel asks whether PPF is worth its real evaluations: at each ratio
// and seed, EvoPress, random search and PPF (collection, predictor,
// agent, predictor-guided search with refits) each spend the same budget
// of real evaluation tokens on the search slice, from the same starts
// (the heuristics' allocations with PPF's units), and each one's best
// policy so far is judged on the held-out report slice and WikiText-2 at
// budget checkpoints. The heuristics, which spend nothing, are measured
// too, with their own units and with PPF's.
func RunDuel(ctx context.Context, o DuelOptions) (*DuelResult, error) {
	t0 := time.Now()
	if len(o.Ratios) == 0 || o.Seeds < 1 || o.Budget < 1 || o.Checkpoints < 1 {
		return nil, fmt.Errorf("duel: want ratios, at least one seed, a budget and a checkpoint (got %v, %d, %d, %d)", o.Ratios, o.Seeds, o.Budget, o.Checkpoints)
	}
	if len(o.Methods) == 0 {
		o.Methods = DuelMethods()
	}
	for _, m := range o.Methods {
		if !slices.Contains(DuelMethods(), m) {
			return nil, fmt.Errorf("duel: method %q: use %s", m, strings.Join(DuelMethods(), ", "))
		}
	}
	if o.Collect < 1 || o.Collect >= o.Budget {
		return nil, fmt.Errorf("duel: PPF collects %d policies of a budget of %d evaluations; collect at least one, and fewer than the budget so that PPF can search", o.Collect, o.Budget)
	}
	stage := func(s string) {
		if o.Stage != nil {
			o.Stage(s)
		}
	}
	stage("calibrate")
	e, err := NewEvaluator(ctx, EvaluatorOptions{Model: o.Model, Tokenizer: o.Tokenizer, Text: o.Text, SeqLen: o.SeqLen,
		SearchTokens: o.SearchTokens, ReportTokens: o.ReportTokens, WikiTokens: o.WikiTokens, Units: o.Units, Backend: o.Backend})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	lo, hi := slices.Min(o.Ratios), slices.Max(o.Ratios)
	if lo <= 0 || hi >= e.Space.MaxRatio() {
		return nil, fmt.Errorf("ratios %v: each must lie in (0, %.3g), what this model's minimums allow", o.Ratios, e.Space.MaxRatio())
	}
	n, seqLen := e.SearchWindows()
	res := &DuelResult{Options: o, ModelID: e.ModelID, Slices: e.Slices, Units: e.Units, SliceTokens: int64(n * seqLen)}
	budget := int64(o.Budget) * res.SliceTokens
	j := &judged{e: e, cache: map[string][2]float64{}, search: map[string]float64{}}

	stage("baselines")
	if res.Dense.Report, res.Dense.Wiki, err = j.reportPlan(ctx, nil); err != nil {
		return nil, err
	}
	if err := duelBaselines(ctx, e, j, res); err != nil {
		return nil, err
	}

	acfg := o.Agent
	if acfg.RatioMin == 0 && acfg.RatioMax == 0 {
		acfg.RatioMin, acfg.RatioMax = max(0, lo-0.05), min(hi+0.05, e.Space.MaxRatio()-0.02)
	}
	runs := o.Seeds * len(o.Ratios) * len(o.Methods)
	for seed := uint64(1); seed <= uint64(o.Seeds); seed++ {
		trained := map[string]*trainedPPF{}
		for i, r := range o.Ratios {
			starts, err := e.BaselineStarts(r, seed)
			if err != nil {
				return nil, err
			}
			stage(fmt.Sprintf("seed %d, ratio %.2f: %s", seed, r, strings.Join(o.Methods, ", ")))
			var evo *SearchRun
			var quality []PredictorQuality
			for _, m := range o.Methods {
				t := time.Now()
				var run *SearchRun
				switch m {
				case MethodEvoPress:
					eo := o.EvoPress
					eo.Ratio, eo.Fitness, eo.Budget, eo.Seed, eo.Log = r, o.Fitness, budget, seed, o.Log
					run, err = EvoPress(ctx, e, e.Space, starts, eo)
					evo = run
				case MethodRandomSearch:
					run, err = RandomSearch(ctx, e, e.Space, starts, RandomSearchOptions{Ratio: r, Fitness: o.Fitness, Budget: budget, Seed: seed})
				case MethodPPF, MethodPPFFocused:
					if trained[m] == nil {
						stage(fmt.Sprintf("seed %d: %s collects and trains", seed, m))
						if trained[m], err = trainPPF(ctx, e, o, m, seed, acfg); err != nil {
							return nil, err
						}
					}
					var q PredictorQuality
					run, q, err = duelPPF(ctx, e, trained[m], starts, o, m, r, seed+uint64(i)<<16, budget, res.SliceTokens)
					q.Seed = seed
					quality = append(quality, q)
				}
				if err != nil {
					return nil, err
				}
				if err := j.addRun(ctx, res, run, seed, budget, time.Since(t)); err != nil {
					return nil, err
				}
				if n := len(quality); n > 0 && quality[n-1].Method == m {
					quality[n-1].StaticReport = res.Runs[len(res.Runs)-1].Report
				}
				if o.Progress != nil {
					o.Progress(len(res.Runs), runs)
				}
			}
			for _, q := range quality {
				if evo == nil {
					break
				}
				if err := j.judgeQuality(ctx, evo, &q); err != nil {
					return nil, err
				}
				res.Quality = append(res.Quality, q)
			}
		}
	}
	res.Seconds = time.Since(t0).Seconds()
	if o.Dir != "" {
		if err := res.Save(o.Dir); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// duelPPF runs PPF's search at ratio after its collection, with as many
// rounds as the budget left pays for, and returns its run (the
// collection charged in full) and what the search says of the predictor.
func duelPPF(ctx context.Context, e *Evaluator, tp *trainedPPF, starts []Start,
	o DuelOptions, method string, ratio float64, seed uint64, budget, sliceTokens int64) (*SearchRun, PredictorQuality, error) {
	q := PredictorQuality{Method: method, Ratio: ratio}
	v, data, pr := o.ppfVariant(method), tp.data, tp.pr
	dyn, err := tp.ag.Policy(ratio)
	if err != nil {
		return nil, q, err
	}
	sopt := o.Search
	collected := Ledger{Evals: len(data), Tokens: int64(len(data)) * sliceTokens, Refits: 1, AgentCalls: 1}
	sopt.Budget = budget - collected.Tokens
	if sopt.Budget < int64(len(starts)+1)*sliceTokens {
		return nil, q, fmt.Errorf("duel: a budget of %d evaluations leaves PPF too little to measure its %d starts after collecting %d policies: raise the budget or collect less",
			o.Budget, len(starts)+1, len(data))
	}
	sopt.Rounds = 1 << 20 // until the budget is spent
	sopt.Ratio, sopt.Seed, sopt.Train, sopt.Local, sopt.Screen, sopt.Verify = ratio, seed, o.Predictor, v.local, v.screen, v.verify
	sopt.Train.Seed = seed
	run := &SearchRun{Method: method, Ratio: ratio, Fitness: FitnessPPL}
	sopt.Measured = func(spent Ledger, best Candidate) {
		run.track(collected.Add(spent), best.Policy, math.Log(best.Perplexity))
	}
	sr, err := Search(ctx, e, pr, data, append([]Start{{Name: "agent", Policy: dyn}}, starts...), sopt)
	if err != nil {
		return nil, q, fmt.Errorf("%s at ratio %v: %w", method, ratio, err)
	}
	run.Spent = collected.Add(sr.Spent)
	var sum float64
	for _, r := range sr.Rounds {
		sum += r.Spearman
	}
	q.RoundSpearman = sum / float64(max(1, len(sr.Rounds)))
	q.first, q.final, q.dynamic = pr, sr.Predictor, dyn
	return run, q, nil
}

// LoadDuel reads a duel.json that RunDuel wrote, to show its tables and
// curves again without running anything.
func LoadDuel(path string) (*DuelResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r DuelResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a duel's results: %w", path, err)
	}
	if len(r.Runs) == 0 || r.SliceTokens <= 0 || len(r.Options.Ratios) == 0 {
		return nil, fmt.Errorf("%s: no runs in it; is it a duel.json written by ppf duel?", path)
	}
	return &r, nil
}

// Save writes duel.json, duel.md and duel.png to dir.
func (r *DuelResult) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "duel.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "duel.md"), []byte(r.Table(true)), 0o644); err != nil {
		return err
	}
	return r.Plot().Save(filepath.Join(dir, "duel.png"))
}
