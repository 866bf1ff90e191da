package ppfnb

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// fakeJudge scores a policy by how far its kept fractions are from a
// hidden target allocation, plus a small noise that depends on the
// windows, and counts what it is asked to run.
type fakeJudge struct {
	t           *testing.T
	space       predictor.Space
	mu          *mutator
	ratio       float64
	n, seqLen   int
	calls       int
	tokens      int64
	windowSizes []int
}

func (f *fakeJudge) SearchWindows() (int, int) { return f.n, f.seqLen }

func (f *fakeJudge) Fitness(_ context.Context, p predictor.Policy, fitness string, windows []int) (float64, error) {
	if !f.mu.meets(p, f.ratio) {
		f.t.Errorf("a candidate removes %v, not the search's ratio %v", f.space.Ratio(p), f.ratio)
	}
	f.calls++
	f.tokens += int64(len(windows) * f.seqLen)
	f.windowSizes = append(f.windowSizes, len(windows))
	var v float64
	for i, l := range p.Layers {
		sl := f.space.Layers[i]
		target := 0.4 + 0.1*float64(i) // later layers may lose more
		v += math.Pow(float64(l.MLPUnits)/float64(sl.MLPUnits)-target, 2) + math.Pow(float64(l.HeadUnits)/float64(sl.HeadUnits)-target, 2)
	}
	for _, w := range windows {
		v += 1e-3 * float64(w%3) / float64(len(windows))
	}
	return v, nil
}

func newFake(t *testing.T, ratio float64) (*fakeJudge, []Start) {
	e := evaluator(t)
	f := &fakeJudge{t: t, space: e.Space, mu: newMutator(e.Space), ratio: ratio, n: 8, seqLen: 64}
	starts, err := e.BaselineStarts(ratio, 1)
	if err != nil {
		t.Fatal(err)
	}
	return f, starts
}

// The ledger counts exactly the evaluations and tokens the judge ran,
// and never passes the budget.
func TestLedgerCountsExactly(t *testing.T) {
	for _, method := range []string{MethodEvoPress, MethodRandomSearch} {
		for _, budget := range []int64{5 * 512, 37 * 512, 200 * 512} {
			f, starts := newFake(t, 0.4)
			var run *SearchRun
			var err error
			if method == MethodEvoPress {
				run, err = EvoPress(context.Background(), f, f.space, starts, EvoPressOptions{Ratio: 0.4, Budget: budget, Seed: 3})
			} else {
				run, err = RandomSearch(context.Background(), f, f.space, starts, RandomSearchOptions{Ratio: 0.4, Budget: budget, Seed: 3})
			}
			if err != nil {
				t.Fatalf("%s, budget %d: %v", method, budget, err)
			}
			if run.Spent.Evals != f.calls || run.Spent.Tokens != f.tokens {
				t.Errorf("%s, budget %d: ledger %d evaluations, %d tokens; the judge ran %d, %d", method, budget, run.Spent.Evals, run.Spent.Tokens, f.calls, f.tokens)
			}
			if f.tokens > budget {
				t.Errorf("%s: spent %d tokens of a budget of %d", method, f.tokens, budget)
			}
			if last := run.Steps[len(run.Steps)-1]; last.Tokens > run.Spent.Tokens || policyKey(last.Policy) != policyKey(run.Best) {
				t.Errorf("%s: the last step (%d tokens) is not the best policy", method, last.Tokens)
			}
		}
	}
}

// Each selection stage scores on its stated number of windows, and the
// survivors shrink as the schedule says.
func TestEvoPressStages(t *testing.T) {
	f, starts := newFake(t, 0.3)
	opt := EvoPressOptions{Ratio: 0.3, Offspring: 8, Survivors: []int{3, 1}, StageTokens: []int{2 * 64, 5 * 64}, Generations: 6, Seed: 1}
	run, err := EvoPress(context.Background(), f, f.space, starts, opt)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	for _, k := range f.windowSizes {
		counts[k]++
	}
	// the starts (4) on the last stage's 5 windows; each generation 8
	// candidates on 2 windows and 3 on 5 (a score already made on the same
	// windows is not run again, so at most these)
	if len(counts) != 2 || counts[2] > 6*8 || counts[2] < 6*7 || counts[5] > 4+6*3 {
		t.Errorf("windows per evaluation: %v; want only 2 (at most 48 times) and 5 (at most 22)", counts)
	}
	if run.Spent.Tokens != int64(counts[2]*2*64+counts[5]*5*64) {
		t.Errorf("tokens %d do not add up from the stages %v", run.Spent.Tokens, counts)
	}
	if got := opt.Schedule(); got != "8 candidates -> 3 on 128 tokens -> 1 on 320 tokens" {
		t.Errorf("schedule %q", got)
	}
	for _, bad := range []EvoPressOptions{
		{Ratio: 0.3, Generations: 1, Survivors: []int{3, 2}, StageTokens: []int{64, 128}},
		{Ratio: 0.3, Generations: 1, Survivors: []int{3, 1}, StageTokens: []int{100, 128}},
		{Ratio: 0.3, Generations: 1, Survivors: []int{3, 1}, StageTokens: []int{64, 64 * 9}},
		{Ratio: 0.3, Generations: 1, Survivors: []int{3}, StageTokens: []int{64, 128}},
		{Ratio: 0.3},
	} {
		if _, err := EvoPress(context.Background(), f, f.space, starts, bad); err == nil {
			t.Errorf("schedule %v %v accepted", bad.Survivors, bad.StageTokens)
		}
	}
}

// The same seed gives the same search; the search improves on its start.
func TestEvoPressDeterministic(t *testing.T) {
	runs := make([]*SearchRun, 3)
	for i, seed := range []uint64{7, 7, 8} {
		f, starts := newFake(t, 0.4)
		var err error
		if runs[i], err = EvoPress(context.Background(), f, f.space, starts, EvoPressOptions{Ratio: 0.4, Budget: 300 * 512, Seed: seed}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Error("the same seed gave two different searches")
	}
	if reflect.DeepEqual(runs[0].Steps, runs[2].Steps) {
		t.Error("seeds 7 and 8 gave the same path")
	}
	if first, last := runs[0].Steps[0].Fitness, runs[0].BestFitness; !(last < first*0.8) {
		t.Errorf("300 evaluations took the fake fitness from %.4f to %.4f only", first, last)
	}
	f, starts := newFake(t, 0.4)
	a, _ := RandomSearch(context.Background(), f, f.space, starts, RandomSearchOptions{Ratio: 0.4, Samples: 40, Seed: 2})
	b, _ := RandomSearch(context.Background(), f, f.space, starts, RandomSearchOptions{Ratio: 0.4, Samples: 40, Seed: 2})
	if !reflect.DeepEqual(a.Steps, b.Steps) {
		t.Error("random search: the same seed gave two different searches")
	}
}

// KL fitness equals KL(dense || pruned) computed directly in float64 from
// the two models' logits; perplexity fitness equals the measured NLL.
func TestFitnessMatchesDirect(t *testing.T) {
	e := evaluator(t)
	ctx := context.Background()
	p, err := e.BaselinePolicy(prune.MethodOWL, 0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, seqLen := e.SearchWindows()
	windows := []int{n - 1, 1}
	search, _ := e.tokens(SliceSearch)
	logits := func(plan *prune.Plan) [][]float32 {
		if plan != nil {
			mk, err := prune.Apply(e.LM.Model, plan)
			if err != nil {
				t.Fatal(err)
			}
			defer mk.Reset()
		}
		var out [][]float32
		for _, w := range windows {
			l, err := native.NewState(e.LM.Model, seqLen, seqLen).Forward(ctx, search[w*seqLen:(w+1)*seqLen], 0)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]float32(nil), l...))
		}
		return out
	}
	plan, err := e.Plan(p)
	if err != nil {
		t.Fatal(err)
	}
	dense, pruned := logits(nil), logits(plan)
	V := e.LM.Model.VocabSize
	logSoftmax := func(row []float32) []float64 {
		m := math.Inf(-1)
		for _, z := range row {
			m = math.Max(m, float64(z))
		}
		var s float64
		for _, z := range row {
			s += math.Exp(float64(z) - m)
		}
		out := make([]float64, len(row))
		for i, z := range row {
			out[i] = float64(z) - m - math.Log(s)
		}
		return out
	}
	var kl, nll float64
	for k, w := range windows {
		ids := search[w*seqLen : (w+1)*seqLen]
		for pos := range seqLen - 1 {
			lp, lq := logSoftmax(dense[k][pos*V:(pos+1)*V]), logSoftmax(pruned[k][pos*V:(pos+1)*V])
			for i := range V {
				kl += math.Exp(lp[i]) * (lp[i] - lq[i])
			}
			nll -= lq[ids[pos+1]]
		}
	}
	tokens := float64(len(windows) * (seqLen - 1))
	kl, nll = kl/tokens, nll/tokens
	gotKL, err := e.Fitness(ctx, p, FitnessKL, windows)
	if err != nil {
		t.Fatal(err)
	}
	gotNLL, err := e.Fitness(ctx, p, FitnessPPL, windows)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gotKL-kl) > 1e-6*math.Max(1, kl) || math.Abs(gotNLL-nll) > 1e-9*nll {
		t.Errorf("KL %.9f, direct %.9f; NLL %.12f, direct %.12f", gotKL, kl, gotNLL, nll)
	}
	if !(kl > 0.01) {
		t.Errorf("KL of a 30%% pruned model %.5f: the case is too small to test", kl)
	}
	full, err := e.Measure(ctx, p, SliceSearch)
	if err != nil {
		t.Fatal(err)
	}
	all := drawWindows(nil, n, n)
	if v, err := e.Fitness(ctx, p, FitnessPPL, all); err != nil || v != full.NLL {
		t.Errorf("ppl fitness on the whole slice %.12f (%v), Measure's NLL %.12f", v, err, full.NLL)
	}
	for _, bad := range [][]int{{}, {-1}, {n}} {
		if _, err := e.Fitness(ctx, p, FitnessKL, bad); err == nil {
			t.Errorf("windows %v accepted", bad)
		}
	}
	if _, err := e.Fitness(ctx, p, "mse", windows); err == nil {
		t.Error("fitness mse accepted")
	}
}

// Search with a token budget stops inside it, and its ledger counts the
// whole-slice measurements and the screening runs exactly.
func TestSearchBudgetAndScreening(t *testing.T) {
	e := evaluator(t)
	pr, train, _ := realPredictor(t)
	starts, err := e.BaselineStarts(0.4, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, seqLen := e.SearchWindows()
	slice := int64(n * seqLen)
	budget := 17*slice + slice/2 // not a whole number of measurements
	var last Ledger
	res, err := Search(context.Background(), e, pr, train, starts, SearchOptions{Ratio: 0.4, Rounds: 1000, Verify: 2, Screen: 6, ScreenWindows: 1,
		Budget: budget, Generations: 5, NoRefit: true, Measured: func(spent Ledger, _ Candidate) { last = spent }})
	if err != nil {
		t.Fatal(err)
	}
	screens := res.Spent.Evals - len(res.Records)
	if want := int64(len(res.Records))*slice + int64(screens*seqLen); res.Spent.Tokens != want || res.Spent.Tokens > budget {
		t.Errorf("spent %d tokens; %d measurements and %d one-window screens make %d, budget %d", res.Spent.Tokens, len(res.Records), screens, want, budget)
	}
	if screens < 6 || len(res.Verified) < 2 {
		t.Errorf("%d screens and %d verified candidates: the search did not screen and verify", screens, len(res.Verified))
	}
	if budget-res.Spent.Tokens >= slice {
		t.Errorf("stopped with %d tokens left, enough for another measurement", budget-res.Spent.Tokens)
	}
	if last.Tokens > res.Spent.Tokens || last.Evals == 0 {
		t.Errorf("the last Measured call saw %+v, the search spent %+v", last, res.Spent)
	}
	if res.Spent.PredictorCalls == 0 || res.Spent.Refits != 0 {
		t.Errorf("predictor calls %d, refits %d (NoRefit)", res.Spent.PredictorCalls, res.Spent.Refits)
	}
}

// The anytime curves average seeds by hand-computable rules, a method
// without a policy yet shows none, and a saved duel loads back to the
// same tables.
func TestDuelCurvesAndReload(t *testing.T) {
	r := &DuelResult{ModelID: "m", SliceTokens: 100, Options: DuelOptions{Ratios: []float64{0.3}, Seeds: 2, Budget: 2, Fitness: FitnessKL, Collect: 1}}
	r.Slices.Report = TokenRange{0, 1000}
	pt := func(tokens int64, has bool, rep float64) AnytimePoint {
		return AnytimePoint{Tokens: tokens, Has: has, Report: rep}
	}
	r.Runs = []DuelRun{
		{Method: MethodEvoPress, Ratio: 0.3, Seed: 1, Points: []AnytimePoint{pt(100, true, 10), pt(200, true, 8)}},
		{Method: MethodEvoPress, Ratio: 0.3, Seed: 2, Points: []AnytimePoint{pt(100, true, 12), pt(200, true, 6)}},
		{Method: MethodPPF, Ratio: 0.3, Seed: 1, Points: []AnytimePoint{pt(100, false, 0), pt(200, true, 9)}},
	}
	r.Baselines = []MethodResult{{Method: "flap", Ratio: 0.3, Report: 20}}
	tokens, evo := r.Anytime(MethodEvoPress, 0.3, false)
	if !reflect.DeepEqual(tokens, []int64{100, 200}) || evo[0] != (Spread{11, 10, 12, 2}) || evo[1] != (Spread{7, 6, 8, 2}) {
		t.Errorf("evopress: %v %+v", tokens, evo)
	}
	if _, ppf := r.Anytime(MethodPPF, 0.3, false); ppf[0].N != 0 || ppf[1] != (Spread{9, 9, 9, 1}) {
		t.Errorf("ppf: %+v", ppf)
	}
	table := r.Table(false)
	for _, want := range []string{"11.00 [10.00, 12.00]", "7.00 [6.00, 8.00]", "–", "Best by mean at each budget: 1: evopress, 2: evopress"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	dir := t.TempDir()
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDuel(filepath.Join(dir, "duel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if back.Table(true) != r.Table(true) {
		t.Error("a reloaded duel prints other tables")
	}
	if _, err := LoadDuel(filepath.Join(dir, "duel.md")); err == nil {
		t.Error("duel.md loaded as a duel")
	}
}
