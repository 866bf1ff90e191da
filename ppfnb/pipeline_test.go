package ppfnb

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// The predictor's Space built from the engine's shape has the engine's
// costs: a policy, the same value for both, has the same ratio in each.
func TestPolicyConversion(t *testing.T) {
	e := evaluator(t)
	want, err := predictor.NewLlamaSpace("stories260K", predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Space.Match(want); err != nil {
		t.Fatal(err)
	}
	for _, m := range prune.Methods() {
		plan, err := e.BaselinePlan(m, 0.4, 1)
		if err != nil {
			t.Fatal(err)
		}
		p := predictor.Policy(plan.Policy)
		if err := e.Space.ValidatePolicy(p); err != nil {
			t.Errorf("%s: the engine's policy does not fit the predictor's space: %v", m, err)
		}
		if math.Abs(e.Space.Ratio(p)-plan.Policy.Ratio(e.Shape)) > 1e-12 {
			t.Errorf("%s: ratio %v in the predictor's space, %v in the engine's", m, e.Space.Ratio(p), plan.Policy.Ratio(e.Shape))
		}
	}
	if _, err := e.Plan(predictor.Policy{Layers: make([]predictor.LayerPolicy, 4)}); !errors.Is(err, predictor.ErrBadPolicy) {
		t.Errorf("a 4-layer policy for 5 layers: %v", err)
	}
	// One error for both vocabularies: what the engine rejects, errors.Is
	// finds under the predictor's name, and the other way round.
	if err := (prune.Policy{Layers: make([]prune.LayerPolicy, 4)}).Validate(e.Shape); !errors.Is(err, predictor.ErrBadPolicy) {
		t.Errorf("the engine's rejection of a 4-layer policy is not predictor.ErrBadPolicy: %v", err)
	}
	if _, err := e.Space.Uniform(2); !errors.Is(err, prune.ErrUnreachable) {
		t.Errorf("the predictor's rejection of ratio 2 is not prune.ErrUnreachable: %v", err)
	}
	if id := ModelID("/x/y/pruned-baby/"); id != "pruned-baby" {
		t.Errorf("ModelID of a folder: %q", id)
	}
}

// Every mutation keeps the budget: the ratio within half a channel.
func TestMutationsKeepTheBudget(t *testing.T) {
	e := evaluator(t)
	mu := newMutator(e.Space)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ratio := range []float64{0.05, 0.3, 0.6, 0.85} {
		p, err := e.Space.Uniform(ratio)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0
		for range 2000 {
			q, ok := mu.mutate(rng, p, ratio)
			if !ok {
				continue
			}
			if err := e.Space.ValidatePolicy(q); err != nil {
				t.Fatal(err)
			}
			if !mu.meets(q, ratio) {
				t.Fatalf("ratio %v: a mutation removes %v", ratio, e.Space.Ratio(q))
			}
			if policyKey(q) != policyKey(p) {
				moved++
			}
			p = q
		}
		if moved < 1000 {
			t.Errorf("ratio %v: only %d of 2000 mutations changed the policy", ratio, moved)
		}
	}
}

// A NaN in the weights is a clear error, not a record.
func TestDivergedMeasurement(t *testing.T) {
	e, err := NewEvaluator(context.Background(), EvaluatorOptions{Model: "stories260K", SearchTokens: 512})
	if err != nil {
		t.Fatal(err)
	}
	e.LM.Model.Layers[2].AttnNorm[5] = float32(math.NaN())
	p, _ := e.Space.Uniform(0.2)
	if _, err := e.Record(context.Background(), p, "test"); !errors.Is(err, ErrDiverged) {
		t.Errorf("NaN weights: %v, want ErrDiverged", err)
	}
}

// realData collects 240 policies of stories260K on the short search slice
// (about 10 s) for the predictor, agent and search tests.
var realData = sync.OnceValues(func() (predictor.Dataset, error) {
	e, err := testEvaluator()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(os.TempDir(), "ppf-real-data.jsonl")
	os.Remove(path)
	defer os.Remove(path)
	res, err := Collect(context.Background(), e, path, CollectOptions{Samples: 240, Seed: 1})
	if err != nil {
		return nil, err
	}
	return res.Records, nil
})

func realPredictor(t *testing.T) (*predictor.Predictor, predictor.Dataset, predictor.Dataset) {
	t.Helper()
	d, err := realData()
	if err != nil {
		t.Fatal(err)
	}
	train, test := d.Split(0.25, 1)
	pr, err := predictor.Train(context.Background(), evaluator(t).Space, train, predictor.DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	return pr, train, test
}

// On measured stories260K policies the predictor ranks held-out policies
// with Spearman >= 0.9, and an agent trained against it meets every ratio.
func TestPredictorAndAgentOnRealData(t *testing.T) {
	pr, _, test := realPredictor(t)
	rep, err := pr.Evaluate(test, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out (%d policies):\n%s", len(test), rep)
	if rep.Overall.Spearman < 0.9 || rep.Overall.RelPPLError > 0.25 {
		t.Errorf("held-out Spearman %.4f (want >= 0.9), relative error %.3f", rep.Overall.Spearman, rep.Overall.RelPPLError)
	}
	e := evaluator(t)
	cfg := agent.DefaultConfig()
	cfg.RatioMin, cfg.RatioMax, cfg.Steps = 0.05, 0.6, 60
	a, err := agent.Train(context.Background(), e.Space, pr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mu := newMutator(e.Space)
	for k := 0; k <= 200; k++ {
		r := 0.05 + 0.55*float64(k)/200
		p, err := a.Policy(r)
		if err != nil {
			t.Fatal(err)
		}
		if !mu.meets(p, r) {
			t.Fatalf("the agent's policy at %v removes %v", r, e.Space.Ratio(p))
		}
	}
	if _, err := a.Policy(0.7); !errors.Is(err, agent.ErrOutOfRange) {
		t.Errorf("ratio 0.7 for an agent of [0.05, 0.6]: %v", err)
	}
}

// Search returns a measured policy no worse on the search slice than its
// best start, even led by a predictor that ranks everything backwards;
// with the real predictor it improves on the baselines.
func TestSearchNeverWorseThanItsStarts(t *testing.T) {
	e := evaluator(t)
	pr, train, _ := realPredictor(t)
	inverted := make(predictor.Dataset, len(train))
	for i, r := range train {
		r.NLL = 10 - r.NLL
		r.Perplexity = math.Exp(r.NLL)
		inverted[i] = r
	}
	bad, err := predictor.Train(context.Background(), e.Space, inverted, predictor.DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	const ratio = 0.45
	var starts []Start
	for _, m := range baselineMethods {
		p, err := e.BaselinePolicy(m, ratio, 1)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, Start{Name: m, Policy: p})
	}
	opt := SearchOptions{Ratio: ratio, Rounds: 2, Verify: 4, Generations: 10, Seed: 1, NoRefit: true}
	for _, tc := range []struct {
		name string
		pr   *predictor.Predictor
	}{{"inverted predictor", bad}, {"real predictor", pr}} {
		res, err := Search(context.Background(), e, tc.pr, inverted, starts, opt)
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(1)
		for _, s := range res.Starts {
			best = min(best, s.Perplexity)
		}
		if res.BestStart.Perplexity != best || res.Best.Perplexity > best {
			t.Errorf("%s: best start %v (min of starts %v), returned %v", tc.name, res.BestStart.Perplexity, best, res.Best.Perplexity)
		}
		again, err := e.Measure(context.Background(), res.Best.Policy, SliceSearch)
		if err != nil || again.Perplexity != res.Best.Perplexity {
			t.Errorf("%s: the returned policy measures %v, reported %v (%v)", tc.name, again.Perplexity, res.Best.Perplexity, err)
		}
		if !newMutator(e.Space).meets(res.Best.Policy, ratio) {
			t.Errorf("%s: the returned policy removes %v, not %v", tc.name, e.Space.Ratio(res.Best.Policy), ratio)
		}
		if len(res.Records) != len(starts)+opt.Rounds*opt.Verify {
			t.Errorf("%s: %d measurements, want %d", tc.name, len(res.Records), len(starts)+opt.Rounds*opt.Verify)
		}
		t.Logf("%s: best start %s %.3f -> %.3f (%s)", tc.name, res.BestStart.Source, res.BestStart.Perplexity, res.Best.Perplexity, res.Best.Source)
		if tc.pr == pr && res.Best.Perplexity >= res.BestStart.Perplexity {
			t.Errorf("the real predictor found nothing better than %s at %v", res.BestStart.Source, ratio)
		}
	}
	far, _ := e.Space.Uniform(0.2)
	if _, err := Search(context.Background(), e, pr, train, []Start{{Name: "far", Policy: far}}, opt); err == nil {
		t.Error("a start at another ratio was accepted")
	}
	if _, err := Search(context.Background(), e, pr, train, nil, opt); err == nil {
		t.Error("a search without starts was accepted")
	}
}

// The whole pipeline, tiny: every method has a cell at each ratio and
// PPF-static is no worse on the search slice than the best start.
func TestExperimentTiny(t *testing.T) {
	o := DefaultExperiment("stories260K", true)
	o.Ratios, o.Samples, o.SearchTokens = []float64{0.3}, 60, 1024
	o.Agent.Steps = 20
	o.Search.Rounds, o.Search.Verify, o.Search.Generations = 1, 2, 5
	o.Dir = t.TempDir()
	res, err := RunExperiment(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ExperimentMethods() {
		c := res.Cell(m, 0.3)
		if c == nil || !(c.Report > 1) {
			t.Errorf("%s: %+v", m, c)
		}
	}
	if s := res.Searches[0]; s.Best.Perplexity > s.BestStart.Perplexity {
		t.Errorf("search %v worse than its best start %v", s.Best.Perplexity, s.BestStart.Perplexity)
	}
	if !res.AgentMeets || res.Timing.EvalSeconds <= res.Timing.ScoreSeconds || res.Dataset.Records != 60 {
		t.Errorf("agent meets %v, timing %+v, records %d", res.AgentMeets, res.Timing, res.Dataset.Records)
	}
	for _, f := range []string{"dataset.jsonl", "search.jsonl", "predictor.json", "agent.json", "results.json"} {
		if _, err := os.Stat(filepath.Join(o.Dir, f)); err != nil {
			t.Errorf("--out lacks %s", f)
		}
	}
	again, err := RunExperiment(context.Background(), o)
	if err != nil || again.Dataset.Resumed != 60 {
		t.Fatalf("rerun: resumed %d of 60 (%v)", again.Dataset.Resumed, err)
	}
	for _, m := range ExperimentMethods() {
		if a, b := again.Cell(m, 0.3), res.Cell(m, 0.3); a.Report != b.Report {
			t.Errorf("%s: %v on the rerun, %v before; the pipeline is seeded", m, a.Report, b.Report)
		}
	}
	t.Log("\n" + res.Table(false))
}

// Calibration does not depend on the number of cores, so shards on
// machines of different sizes draw the same policies.
func TestCalibrationIndependentOfCores(t *testing.T) {
	e := evaluator(t)
	ids := e.text[e.Slices.Calib.From:e.Slices.Calib.To]
	var stats [2]*prune.Stats
	for i, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		st, err := calibrate(context.Background(), e.LM.Model, ids, e.Slices.CalibSeqLen, nil)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		stats[i] = st
	}
	if !reflect.DeepEqual(stats[0], stats[1]) || !reflect.DeepEqual(stats[0], e.Stats) {
		t.Error("calibration statistics differ between 1 and 3 cores")
	}
}

// WikiText-2 as the in-domain text cannot also be the held-out report text.
func TestWikiReportIsNotTheSearchText(t *testing.T) {
	_, err := NewEvaluator(context.Background(), EvaluatorOptions{Model: "stories260K", Text: DefaultWiki, WikiTokens: 1000})
	if err == nil || !strings.Contains(err.Error(), "is the in-domain text") {
		t.Errorf("WikiText-2 as both texts: %v", err)
	}
}
