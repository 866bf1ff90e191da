package notebooks

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/kernel/kerneltest"
	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb"
)

// The checks of each notebook's outputs. Each recomputes what the
// notebook shows with the same calls, compiled, and compares; numbers
// that depend on training are checked for plausibility instead.

const excerpt = "tinystories/TinyStories-valid-excerpt.txt"

func load(t *testing.T, name string) *ppfnb.LM {
	t.Helper()
	lm, err := ppfnb.Load(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return lm
}

func evaluate(t *testing.T, lm *ppfnb.LM) float64 {
	t.Helper()
	ev, err := lm.Evaluate(context.Background(), excerpt, native.EvalOptions{SeqLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	return ev.Perplexity
}

func generate(t *testing.T, lm *ppfnb.LM, steps int) string {
	t.Helper()
	s, err := lm.Generate(context.Background(), ppfnb.GenerateOptions{Prompt: "Once upon a time", Steps: steps}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sliced is lm pruned by method at ratio (calibration statistics st, nil
// for uniform) as a smaller model.
func sliced(t *testing.T, lm *ppfnb.LM, st *prune.Stats, method string, ratio float64) *ppfnb.LM {
	t.Helper()
	plan, err := prune.NewPlan(lm.Model, st, prune.Options{Method: method, Ratio: ratio})
	if err != nil {
		t.Fatal(err)
	}
	m, err := prune.Slice(lm.Model, plan)
	if err != nil {
		t.Fatal(err)
	}
	return &ppfnb.LM{Name: lm.Name, Model: m, Tokenizer: lm.Tokenizer}
}

func checkQuickstart(t *testing.T, nb *kerneltest.Notebook) {
	lm := load(t, "stories260K")
	if got, want := nb.Text(t, "load", ""), fmt.Sprintf("%d parameters", lm.Model.NumParams()); !strings.Contains(got, want) {
		t.Errorf("load: %q lacks %q", got, want)
	}
	if got, want := nb.Text(t, "generate", ""), "Once upon a time"+generate(t, lm, 120); got != want {
		t.Errorf("generate: the notebook wrote %q, the engine %q", got, want)
	}
	dense := evaluate(t, lm)
	if got, want := nb.Text(t, "dense-perplexity", "text/markdown"), fmt.Sprintf("Dense perplexity: **%.3f**", dense); !strings.Contains(got, want) {
		t.Errorf("dense-perplexity: %q lacks %q", got, want)
	}
	if dense < 5 || dense > 7 {
		t.Errorf("dense perplexity %.3f: docs/usage.md measures 5.735", dense)
	}
	if got := nb.Text(t, "prune", ""); !strings.Contains(got, "removed 0.30") || !strings.Contains(got, "layer 4 keeps 3 of 4 KV groups (6 of 8 query heads)") {
		t.Errorf("prune: %q", got)
	}
	small := sliced(t, lm, nil, prune.MethodUniform, 0.3)
	table := nb.Text(t, "pruned-perplexity", "text/html")
	for _, want := range []string{fmt.Sprintf("<td>%.3f</td>", dense), fmt.Sprintf("<td>%.3f</td>", evaluate(t, small)), fmt.Sprintf("<td>%d</td>", small.Model.NumParams())} {
		if !strings.Contains(table, want) {
			t.Errorf("pruned-perplexity: the table lacks %s:\n%s", want, table)
		}
	}
	if got, want := nb.Text(t, "generate-pruned", ""), "Once upon a time"+generate(t, small, 120); got != want {
		t.Errorf("generate-pruned: the notebook wrote %q, the engine %q", got, want)
	}
	sweep := nb.Text(t, "sweep", "text/html")
	for _, r := range []float64{0.1, 0.5} {
		want := fmt.Sprintf("%.2f", evaluate(t, sliced(t, lm, nil, prune.MethodUniform, r)))
		if !strings.Contains(sweep, want) {
			t.Errorf("sweep: the table lacks uniform %.1f's perplexity %s:\n%s", r, want, sweep)
		}
	}
	if nb.Images(t, "sweep-plot") != 1 {
		t.Error("sweep-plot: no chart")
	}
}

// heldOut returns stories260K's calibration statistics and held-out
// tokens, as notebook 2 makes them.
func heldOut(t *testing.T, lm *ppfnb.LM) (*prune.Stats, []int) {
	t.Helper()
	text, err := native.ReadText(ppfnb.ResolveData(excerpt))
	if err != nil {
		t.Fatal(err)
	}
	calib, rest, err := prune.Split(lm.Tokenizer.Encode(text, true), prune.DefaultCalibTokens)
	if err != nil {
		t.Fatal(err)
	}
	st, err := prune.Calibrate(context.Background(), lm.Model, calib, prune.CalibOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st, rest
}

func checkMethods(t *testing.T, nb *kerneltest.Notebook) {
	lm := load(t, "stories260K")
	st, rest := heldOut(t, lm)
	ctx := context.Background()
	measure := func(method string, ratio float64) (float64, float64) {
		plan, err := prune.NewPlan(lm.Model, st, prune.Options{Method: method, Ratio: ratio})
		if err != nil {
			t.Fatal(err)
		}
		mk, err := prune.Apply(lm.Model, plan)
		if err != nil {
			t.Fatal(err)
		}
		defer mk.Reset()
		ev, err := native.Perplexity(ctx, lm.Model, rest, native.EvalOptions{SeqLen: 256})
		if err != nil {
			t.Fatal(err)
		}
		return ev.Perplexity, plan.Policy.Ratio(prune.ShapeOf(lm.Model))
	}
	dense, _ := measure(prune.MethodUniform, 0)
	if got, want := nb.Text(t, "dense", "text/markdown"), fmt.Sprintf("**%.3f**", dense); !strings.Contains(got, want) {
		t.Errorf("dense: %q lacks %s", got, want)
	}
	if got := nb.Text(t, "calibrate", "text/html"); strings.Count(got, "<tr>") != 6 {
		t.Errorf("calibrate: want a table of 5 layers:\n%s", got)
	}
	table := nb.Text(t, "sweep", "text/html")
	cells := []struct {
		method string
		ratio  float64
	}{{prune.MethodUniform, 0.5}, {prune.MethodWandaSP, 0.3}, {prune.MethodOWL, 0.2}, {prune.MethodFLAP, 0.3}, {prune.MethodShortGPT, 0.1}}
	for _, c := range cells {
		ppl, achieved := measure(c.method, c.ratio)
		want := fmt.Sprintf("%.2f", ppl)
		if c.method == prune.MethodShortGPT {
			want += fmt.Sprintf(" (%.2g)", achieved)
		}
		if !strings.Contains(table, want) {
			t.Errorf("sweep: the table lacks %s at %.1f = %s:\n%s", c.method, c.ratio, want, table)
		}
		if !(ppl > dense && ppl < 1e5) {
			t.Errorf("%s at %.1f: perplexity %.2f, dense %.2f", c.method, c.ratio, ppl, dense)
		}
	}
	flap, _ := measure(prune.MethodFLAP, 0.3)
	uniform, _ := measure(prune.MethodUniform, 0.3)
	if !strings.Contains(table, fmt.Sprintf("<b>%.2f</b>", flap)) || flap >= uniform {
		t.Errorf("sweep: FLAP (%.2f) should be the best at 0.3 and beat uniform (%.2f), as the notebook says", flap, uniform)
	}
	for _, id := range []string{"sweep-plot", "policies"} {
		if nb.Images(t, id) != 1 {
			t.Errorf("%s: no chart", id)
		}
	}
	if got := nb.Text(t, "generate", "text/html"); strings.Count(got, "<td>Once upon a time") != 3 {
		t.Errorf("generate: want three texts:\n%s", got)
	}
}

func checkPredictor(t *testing.T, nb *kerneltest.Notebook) {
	if got := nb.Text(t, "evaluator", ""); !strings.Contains(got, "search      tokens [4096, 8192)") {
		t.Errorf("evaluator: %q", got)
	}
	if got := nb.Text(t, "collect", ""); !strings.Contains(got, "300 policies measured") {
		t.Errorf("collect: %q", got)
	}
	if got := nb.Text(t, "train", ""); !strings.Contains(got, "trained on 240 policies, 60 held out") {
		t.Errorf("train: %q", got)
	}
	table := nb.Text(t, "evaluate", "text/html")
	// The overall row: all, n, MAE, relative error, Spearman.
	mae := number(t, table, "<td>all</td><td>60</td><td>")
	if mae <= 0 || mae > 0.2 {
		t.Errorf("evaluate: held-out mean absolute error %.4f of log-perplexity; want (0, 0.2]:\n%s", mae, table)
	}
	for _, id := range []string{"train", "parity"} {
		if nb.Images(t, id) != 1 {
			t.Errorf("%s: no chart", id)
		}
	}
	rho := number(t, nb.Text(t, "parity", ""), "Spearman rank correlation")
	if rho < 0.9 || rho > 1 {
		t.Errorf("parity: Spearman %.3f over held-out policies; want at least 0.9", rho)
	}
	timing := nb.Text(t, "timing", "text/html")
	if speedup := number(t, timing, "<td>speed-up</td><td></td><td>"); speedup < 1e4 {
		t.Errorf("timing: the predictor is only %.0fx faster than a real evaluation:\n%s", speedup, timing)
	}
	real := number(t, timing, "<td>real evaluation (4,080 tokens)</td><td>")
	pred := number(t, timing, "<td>predictor</td><td>")
	if math.Abs(math.Log(pred/real)) > 0.5 {
		t.Errorf("timing: predicted %.3f against measured %.3f", pred, real)
	}
	if got := nb.Text(t, "save", ""); !strings.Contains(got, "saved stories260K.predictor.json") {
		t.Errorf("save: %q", got)
	}
}

func checkAgent(t *testing.T, nb *kerneltest.Notebook) {
	if got := nb.Text(t, "setup", ""); !strings.Contains(got, "predictor trained on 300 measured policies") {
		t.Errorf("setup: %q", got)
	}
	for _, id := range []string{"train-agent", "dynamic", "compare-plot", "policies"} {
		if nb.Images(t, id) != 1 {
			t.Errorf("%s: no chart", id)
		}
	}
	if got := nb.Text(t, "dynamic", ""); !strings.Contains(got, "12 policies") {
		t.Errorf("dynamic: %q", got)
	}
	table := nb.Text(t, "compare", "text/html")
	for _, m := range []string{"uniform", "wanda-sp", "owl", "flap", "uniform, FLAP units", ppfnb.MethodPPFDynamic, ppfnb.MethodPPFStatic} {
		row := "<tr><td>" + m + "</td><td>"
		if !strings.Contains(table, row) {
			t.Errorf("compare: no row %s:\n%s", m, table)
			continue
		}
		// Every method meets the ratio (no brackets) and is plausible:
		// worse than the dense model (5.8), far from diverged.
		if v := number(t, strings.ReplaceAll(table, "<b>", ""), row); v < 5.8 || v > 1000 {
			t.Errorf("compare: %s at 0.2 measures %.2f", m, v)
		}
	}
	if strings.Contains(table, "(0.") {
		t.Errorf("compare: a method missed its ratio:\n%s", table)
	}
	// What the notebook's conclusions say: the agent beats FLAP at every
	// ratio, and the better of PPF's two policies beats every baseline.
	grid := sweepTable(t, table)
	for j := range grid[ppfnb.MethodPPFDynamic] {
		dyn, static := grid[ppfnb.MethodPPFDynamic][j], grid[ppfnb.MethodPPFStatic][j]
		if dyn >= grid["flap"][j] {
			t.Errorf("compare, ratio column %d: ppf-dynamic %.2f does not beat flap %.2f, as the notebook says", j, dyn, grid["flap"][j])
		}
		for _, m := range []string{"uniform", "wanda-sp", "owl", "flap", "uniform, FLAP units"} {
			if min(dyn, static) >= grid[m][j] {
				t.Errorf("compare, ratio column %d: PPF's best %.2f does not beat %s %.2f", j, min(dyn, static), m, grid[m][j])
			}
		}
	}
	if got := nb.Text(t, "searches", "text/html"); strings.Count(got, "<tr>") != 4 {
		t.Errorf("searches: want three searches:\n%s", got)
	}
}

// sweepTable parses a Sweep's HTML table: per method, its perplexities
// in the order of the columns.
func sweepTable(t *testing.T, html string) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, row := range strings.Split(html, "<tr>")[1:] {
		cells := strings.Split(strings.ReplaceAll(strings.ReplaceAll(row, "<b>", ""), "</b>", ""), "<td>")
		if len(cells) < 2 {
			continue
		}
		method := strings.TrimSuffix(cells[1], "</td>")
		for _, c := range cells[2:] {
			out[method] = append(out[method], number(t, c, ""))
		}
	}
	return out
}

func checkOwnModel(t *testing.T, nb *kerneltest.Notebook) {
	baby := load(t, "babyllama-tok105")
	ppl := evaluate(t, baby)
	want := fmt.Sprintf("%.6f", ppl)
	if got := nb.Text(t, "baby-perplexity", "text/markdown"); !strings.Contains(got, fmt.Sprintf("**%.4f**", ppl)) {
		t.Errorf("baby-perplexity: %q, the engine measures %s", got, want)
	}
	// The Hugging Face copy measures exactly what the llama2.c file does.
	table := nb.Text(t, "reload", "text/html")
	if strings.Count(table, "<td>"+want+"</td>") != 2 {
		t.Errorf("reload: want %s for both formats:\n%s", want, table)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.model"} {
		if got := nb.Text(t, "export", ""); !strings.Contains(got, f) {
			t.Errorf("export: no %s in %q", f, got)
		}
	}
	if got := nb.Text(t, "config", "text/markdown"); !strings.Contains(got, `"model_type": "llama"`) {
		t.Errorf("config: %q", got)
	}
	if got, want := nb.Text(t, "generate", ""), "Once upon a time"+generate(t, baby, 200); got != want {
		t.Errorf("generate: the notebook wrote %q, the engine %q", got, want)
	}
	if got := nb.Text(t, "pruned-config", "text/markdown"); strings.Count(got, "intermediate_size") != 5 {
		t.Errorf("pruned-config: want five layers' sizes: %q", got)
	}
	pruned := nb.Text(t, "pruned-reload", "text/html")
	in := number(t, pruned, "<td>sliced, in memory</td><td>")
	disk := number(t, pruned, "<td>saved and loaded back</td><td>")
	if math.Abs(in-disk) > 1e-4*in || in < 2.5 || in > 100 {
		t.Errorf("pruned-reload: in memory %.6f, from disk %.6f", in, disk)
	}
	backends := nb.Text(t, "backends", "")
	if !strings.Contains(backends, "backend cpu: perplexity "+want) || !strings.Contains(backends, "unknown backend") {
		t.Errorf("backends: %q (want perplexity %s and the missing GPU backend's error)", backends, want)
	}
}

func checkBrowser(t *testing.T, nb *kerneltest.Notebook) {
	if got := nb.Text(t, "train", ""); !strings.Contains(got, "predictor trained on 200 measured policies") {
		t.Errorf("train: %q", got)
	}
	if got := nb.Text(t, "export", ""); !strings.Contains(got, "wrote stories260K.predictor.json and stories260K.agent.json") {
		t.Errorf("export: %q", got)
	}
	html := nb.Text(t, "widget", "text/html")
	for _, want := range []string{"ppfPage(", "ppfGunzipBase64("} {
		if !strings.Contains(html, want) {
			t.Errorf("widget: the HTML (%d bytes) lacks %q", len(html), want)
		}
	}
	if got := nb.Text(t, "widget", ""); !strings.Contains(got, "predictor widget for model stories260K, with its agent") {
		t.Errorf("widget: text form %q", got)
	}
}

// checkDuel runs the notebook's duel again, compiled, and compares: the
// duel is deterministic for its seeds, so the anytime tables and the last
// column must be the same to the digit.
func checkDuel(t *testing.T, nb *kerneltest.Notebook) {
	o := ppfnb.DefaultDuel("stories260K", true)
	o.Ratios = []float64{0.3}
	res, err := ppfnb.RunDuel(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := res.Table(false)
	want = want[:strings.Index(want, "Spend per run")]
	if got := nb.Text(t, "duel", ""); !strings.Contains(got, want) {
		t.Errorf("duel: the notebook's tables differ from a compiled run's:\n%s\nwant:\n%s", got, want)
	}
	if nb.Images(t, "plot") != 1 {
		t.Error("plot: no chart")
	}
	final := nb.Text(t, "final", "")
	for _, m := range ppfnb.DuelMethods() {
		_, at := res.Anytime(m, 0.3, false)
		if line := fmt.Sprintf("%-14s %s\n", m, at[len(at)-1]); !strings.Contains(final, line) {
			t.Errorf("final: no line %q in\n%s", line, final)
		}
	}
	budget := int64(o.Budget) * res.SliceTokens
	collects := map[string]int64{ppfnb.MethodPPF: int64(o.Collect) * res.SliceTokens, ppfnb.MethodPPFFocused: int64(o.Budget/4) * res.SliceTokens}
	for _, run := range res.Runs {
		if run.Spent.Tokens > budget {
			t.Errorf("%s seed %d spent %d tokens of %d", run.Method, run.Seed, run.Spent.Tokens, budget)
		}
		for _, p := range run.Points {
			if collected := collects[run.Method]; p.Has && p.Tokens < collected {
				t.Errorf("ppf has a policy after %d tokens, before its collection of %d is done", p.Tokens, collected)
			}
		}
	}
	checkDuelLesson(t, res)
}

// checkDuelLesson checks what notebook 7's lesson says of its run.
func checkDuelLesson(t *testing.T, res *ppfnb.DuelResult) {
	final := map[string]float64{}
	for _, m := range ppfnb.DuelMethods() {
		_, at := res.Anytime(m, 0.3, false)
		final[m] = at[len(at)-1].Mean
	}
	flap := 0.0
	for _, b := range res.Baselines {
		if b.Method == "flap" {
			flap = b.Report
		}
	}
	for m, v := range final {
		if m != ppfnb.MethodEvoPress && !(final[ppfnb.MethodEvoPress] < v) {
			t.Errorf("the lesson says EvoPress ends best on held-out text; the run ends at %v", final)
		}
	}
	if !(final[ppfnb.MethodPPFFocused] < final[ppfnb.MethodPPF]) {
		t.Errorf("the lesson says ppf-focused comes closer than ppf; the run ends at %v", final)
	}
	for m, v := range final {
		if !(v < flap) {
			t.Errorf("the lesson says every search ends below FLAP (%.2f); %s ends at %.2f", flap, m, v)
		}
	}
	// and on WikiText-2 it leads the searches in most columns
	_, evo := res.Anytime(ppfnb.MethodEvoPress, 0.3, true)
	leads := 0
	for i := range evo {
		best := true
		for _, m := range ppfnb.DuelMethods()[1:] {
			if _, at := res.Anytime(m, 0.3, true); at[i].N > 0 && at[i].Mean < evo[i].Mean {
				best = false
			}
		}
		if best {
			leads++
		}
	}
	if 2*leads <= len(evo) {
		t.Errorf("the lesson says EvoPress leads on WikiText-2 for most of the budget; it leads in %d of %d columns", leads, len(evo))
	}
	for _, q := range res.Quality {
		if q.RoundSpearman > 0.3 {
			t.Errorf("the lesson says PPF's predictor ranks its own candidates little better than chance; seed %d: Spearman %.2f", q.Seed, q.RoundSpearman)
		}
	}
}
