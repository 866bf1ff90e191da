//go:build !js

package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
	"github.com/ppfkit/ppf/ppfnb/web"
)

// The end-to-end tests drive Debian's chromium headless (apt-get install
// chromium; PPF_CHROMIUM names another binary). Without it they skip,
// unless CI is set, and under -short. Screenshots go to $PPF_SCREENSHOTS,
// or a temporary folder.

func browser(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("the browser tests start chromium: skipped under -short")
	}
	var path string
	for _, name := range []string{os.Getenv("PPF_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is missing, and CI needs the browser tests: apt-get install chromium")
		}
		t.Skip("chromium is missing: apt-get install chromium (or set PPF_CHROMIUM) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("allow-file-access-from-files", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var mu sync.Mutex
	var problems []string
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				p += " " + e.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "warning" {
				p = "console " + ev.Type.String() + ":"
				for _, a := range ev.Args {
					p += " " + string(a.Value) + a.Description
				}
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}))
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancel()
		cancelCtx()
		cancelAlloc()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("the page reported %s", p)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

func do(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval runs JavaScript, awaiting a promise, and returns its value.
func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PPF_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// shown is what the page displays, read from its elements.
type shown struct {
	PPL       string  `json:"ppl"`   // the text
	PPLValue  float64 `json:"value"` // full precision, data-value
	Ratio     float64 `json:"ratio"`
	Heads     []int   `json:"heads"` // slider positions: units kept
	MLP       []int   `json:"mlp"`
	Dropped   []bool  `json:"dropped"`
	Updates   int     `json:"updates"`
	Message   string  `json:"message"`
	IsError   bool    `json:"isError"`
	Body      string  `json:"body"`
	Target    float64 `json:"target"`
	UnitsText string  `json:"unitsText"`
}

func read(t testing.TB, ctx context.Context, root string) shown {
	t.Helper()
	return eval[shown](t, ctx, `(() => {
		const r = document.querySelector(`+strconv.Quote(root)+`), q = (s) => r.querySelector(s), all = (s) => [...r.querySelectorAll(s)];
		const msg = q(".ppf-msg");
		return {ppl: q(".ppf-ppl").textContent, value: Number(q(".ppf-ppl").dataset.value), ratio: Number(q(".ppf-ratio").dataset.value),
			heads: all("input.ppf-head").map(e => Number(e.value)), mlp: all("input.ppf-mlp").map(e => Number(e.value)),
			dropped: all("input.ppf-drop-layer").map(e => e.checked), updates: Number(r.dataset.updates),
			message: msg.hidden ? "" : msg.textContent, isError: msg.classList.contains("ppf-error"), body: r.innerText,
			target: Number(q(".ppf-target").value), unitsText: all(".ppf-units").map(e => e.textContent).join("|")};
	})()`)
}

// waitUpdates waits until the page has shown more than n results.
func waitUpdates(t testing.TB, ctx context.Context, root string, n int) shown {
	t.Helper()
	for range 200 {
		if s := read(t, ctx, root); s.Updates > n {
			time.Sleep(50 * time.Millisecond) // let the last key press's update land
			return read(t, ctx, root)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: the page did not update", root)
	return shown{}
}

// native predicts what the page shows, with the native predictor.
func native(t testing.TB, p *predictor.Predictor, s shown) (ppl, ratio float64) {
	t.Helper()
	pol := predictor.Policy{Layers: make([]predictor.LayerPolicy, len(s.Heads))}
	for i := range s.Heads {
		if s.Dropped[i] {
			pol.Layers[i] = predictor.LayerPolicy{Drop: true}
		} else {
			pol.Layers[i] = predictor.LayerPolicy{HeadUnits: s.Heads[i], MLPUnits: s.MLP[i]}
		}
	}
	ppl, err := p.Perplexity(pol)
	if err != nil {
		t.Fatal(err)
	}
	return ppl, p.Space().Ratio(pol)
}

// checkShown compares the page's perplexity and ratio with the native
// predictor's for the policy its sliders show.
func checkShown(t testing.TB, p *predictor.Predictor, s shown, what string) {
	t.Helper()
	want, ratio := native(t, p, s)
	if d := math.Abs(s.PPLValue-want) / want; !(d <= 1e-9) || math.Abs(s.Ratio-ratio) > 1e-12 {
		t.Errorf("%s: the page shows perplexity %v and ratio %v, the native predictor %v and %v (relative difference %.2g)", what, s.PPLValue, s.Ratio, want, ratio, d)
	}
	if txt, err := strconv.ParseFloat(s.PPL, 64); err != nil || math.Abs(txt-want)/want > 1e-3 {
		t.Errorf("%s: the page's text %q, native %v", what, s.PPL, want)
	}
	if strings.Contains(s.Body, "NaN") {
		t.Errorf("%s: the page shows NaN: %q", what, s.Body)
	}
}

// pressKeys focuses the element sel and presses key n times.
func pressKeys(sel, key string, n int) chromedp.Action[chromedp.Void] {
	acts := []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.CSS(sel))}
	for range n {
		acts = append(acts, chromedp.KeyEvent(key))
	}
	return chromedp.Steps(acts...)
}

func demoModels(t testing.TB) (*predictor.Predictor, *agent.Agent) {
	t.Helper()
	d := web.Demo()
	p, err := predictor.Decode(bytes.NewReader(d.Predictor))
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.Decode(bytes.NewReader(d.Agent))
	if err != nil {
		t.Fatal(err)
	}
	return p, a
}

// exercise moves sliders on the page in root and checks every shown
// perplexity against the native predictor.
func exercise(t *testing.T, ctx context.Context, root string, p *predictor.Predictor, a *agent.Agent) {
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(root+`[data-state="ready"] .ppf-ppl`)))
	s := read(t, ctx, root)
	// It opens on the agent's policy for the target ratio.
	ap, err := a.Policy(s.Target)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Perplexity(ap)
	if math.Abs(s.PPLValue-want)/want > 1e-9 || s.MLP[0] != ap.Layers[0].MLPUnits {
		t.Errorf("opening: perplexity %v, layer 0 keeps %d channels; the agent's policy at %v: %v and %d", s.PPLValue, s.MLP[0], s.Target, want, ap.Layers[0].MLPUnits)
	}
	checkShown(t, p, s, "opening")

	// Move layer 2's MLP slider down by 25 channels with the keyboard, and layer 0's key/value groups down by one.
	do(t, ctx, pressKeys(root+` tbody tr:nth-child(3) input.ppf-mlp`, kb.ArrowLeft, 25))
	s2 := waitUpdates(t, ctx, root, s.Updates)
	if s2.MLP[2] != s.MLP[2]-25 && s.MLP[2]-25 >= 1 {
		t.Errorf("layer 2 keeps %d channels after 25 presses of ←, from %d", s2.MLP[2], s.MLP[2])
	}
	if !strings.Contains(s2.UnitsText, fmt.Sprintf("%d / 172 channels", s2.MLP[2])) {
		t.Errorf("the unit labels %q do not show layer 2's %d channels", s2.UnitsText, s2.MLP[2])
	}
	checkShown(t, p, s2, "after moving layer 2's MLP slider")
	do(t, ctx, pressKeys(root+` tbody tr:nth-child(1) input.ppf-head`, kb.ArrowLeft, 1))
	s3 := waitUpdates(t, ctx, root, s2.Updates)
	checkShown(t, p, s3, "after moving layer 0's attention slider")
	if s3.PPLValue == s2.PPLValue {
		t.Error("the perplexity did not move with the slider")
	}
	// Drop layer 3.
	do(t, ctx, chromedp.Click(chromedp.CSS(root+` tbody tr:nth-child(4) input.ppf-drop-layer`)))
	s4 := waitUpdates(t, ctx, root, s3.Updates)
	if !s4.Dropped[3] {
		t.Error("layer 3 is not dropped")
	}
	checkShown(t, p, s4, "after dropping layer 3")

	// The target ratio: 10 steps of 0.01 up, the agent's policy for it.
	do(t, ctx, pressKeys(root+` input.ppf-target`, kb.ArrowRight, 10))
	s5 := waitUpdates(t, ctx, root, s4.Updates)
	ap, err = a.Policy(s5.Target)
	if err != nil {
		t.Fatal(err)
	}
	want, _ = p.Perplexity(ap)
	if math.Abs(s5.Target-s.Target-0.1) > 1e-9 || math.Abs(s5.PPLValue-want)/want > 1e-9 || math.Abs(s5.Ratio-s5.Target) > 0.01 || s5.Dropped[3] {
		t.Errorf("agent at %v: the page shows %v at ratio %v, native %v", s5.Target, s5.PPLValue, s5.Ratio, want)
	}
	checkShown(t, p, s5, "the agent's policy")
}

func TestBrowserPage(t *testing.T) {
	ctx := browser(t)
	p, a := demoModels(t)
	srv := httptest.NewServer(web.Handler(web.Demo()))
	defer srv.Close()
	do(t, ctx, chromedp.Navigate(srv.URL))
	exercise(t, ctx, "#ppf-app", p, a)
	screenshot(t, ctx, "ppf-page.png")

	// The API rejects bad input, with codes, never a NaN.
	codes := eval[map[string]string](t, ctx, `(async () => {
		const out = {}, one = [1, 1, 1, 1, 1];
		const code = async (name, p) => { try { out[name] = "resolved " + await p } catch (e) { out[name] = e.code + ": " + e.message } };
		await code("short", ppf.score({heads: [1], mlp: [1]}));
		await code("range", ppf.score({heads: one, mlp: [1, 1, 1.5, 1, 1]}));
		await code("nan", ppf.score({heads: one, mlp: [1, 1, NaN, 1, 1]}));
		await code("string", ppf.score({heads: one, mlp: [1, 1, "x", 1, 1]}));
		await code("malformed", ppf.loadPredictor("{"));
		await code("ratio", ppf.policyFor(0.99));
		return out;
	})()`)
	for name, prefix := range map[string]string{"short": "bad-policy:", "range": "bad-policy:", "nan": "bad-policy:", "string": "bad-policy:",
		"malformed": "malformed:", "ratio": "out-of-range:"} {
		if !strings.HasPrefix(codes[name], prefix) {
			t.Errorf("API, %s: %q, want %s", name, codes[name], prefix)
		}
	}

	// ppf.score and ppf.scoreBatch (the loader's WebAssembly-export fast
	// path) give the native predictions of testdata/golden.json.
	golden, err := os.ReadFile("../../wasm/internal/api/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	type gold struct {
		Name       string
		Perplexity float64
	}
	var gs []gold
	if err := json.Unmarshal(golden, &gs); err != nil {
		t.Fatal(err)
	}
	got := eval[[][2]float64](t, ctx, `(async () => {
		const gs = `+string(golden)+`, batch = await ppf.scoreBatch(gs), out = [];
		for (let i = 0; i < gs.length; i++) out.push([await ppf.score(gs[i]), batch[i]]);
		return out;
	})()`)
	for i, g := range gs {
		if math.Abs(got[i][0]-g.Perplexity)/g.Perplexity > 1e-12 || math.Abs(got[i][1]-g.Perplexity)/g.Perplexity > 1e-12 {
			t.Errorf("%s: score %v, scoreBatch %v, native %v", g.Name, got[i][0], got[i][1], g.Perplexity)
		}
	}

	// Bad files through the file chooser: a visible message, and the page keeps its predictor.
	d := web.Demo()
	dir := t.TempDir()
	files := map[string]string{
		"garbage.json":     "{this is not json",
		"future.json":      strings.Replace(string(d.Predictor), `"version": 1`, `"version": 2`, 1),
		"other-agent.json": strings.ReplaceAll(string(d.Agent), `"stories260K-synthetic"`, `"llama-7b"`),
	}
	wantMsg := map[string]string{"garbage.json": "not a predictor file", "future.json": "version 2", "other-agent.json": `"llama-7b"`}
	before := read(t, ctx, "#ppf-app")
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, chromedp.SetUploadFiles(chromedp.CSS(`#ppf-app input[type=file]`), []string{path}))
		var s shown
		for range 100 {
			if s = read(t, ctx, "#ppf-app"); s.Message != "" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !s.IsError || !strings.HasPrefix(s.Message, name+": ") || !strings.Contains(s.Message, wantMsg[name]) {
			t.Errorf("%s: message %q (error: %v), want one naming the file and %q", name, s.Message, s.IsError, wantMsg[name])
		}
		if s.PPLValue != before.PPLValue || strings.Contains(s.Body, "NaN") {
			t.Errorf("%s: the page changed to %v", name, s.PPLValue)
		}
		if name == "future.json" {
			screenshot(t, ctx, "ppf-page-error.png")
		}
	}
}

func TestBrowserWidget(t *testing.T) {
	ctx := browser(t)
	p, a := demoModels(t)
	d := web.Demo()
	w1, err := ppfnb.PredictorWidget(string(d.Predictor), string(d.Agent))
	if err != nil {
		t.Fatal(err)
	}
	w2, err := ppfnb.PredictorWidget(string(d.Predictor), "")
	if err != nil {
		t.Fatal(err)
	}
	// A saved notebook export: two widgets in one static file, no server.
	page := "<!doctype html><html><head><meta charset=utf-8><title>notebook.html</title></head><body>" +
		"<h1>A saved notebook</h1><div class=output>" + w1.HTML() + "</div><div class=output>" + w2.HTML() + "</div></body></html>"
	path := filepath.Join(t.TempDir(), "notebook.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate("file://"+path))
	ids := eval[[]string](t, ctx, `[...document.querySelectorAll("div.ppf[id]")].map(e => "#" + e.id)`)
	if len(ids) != 2 {
		t.Fatalf("widgets found: %v", ids)
	}
	exercise(t, ctx, ids[0], p, a)
	// The second, without an agent, is independent of the first.
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(ids[1]+`[data-state="ready"] .ppf-ppl`)))
	s := read(t, ctx, ids[1])
	checkShown(t, p, s, "second widget")
	if !strings.Contains(s.Body, "No agent loaded") {
		t.Error("the second widget does not say it has no agent")
	}
	screenshot(t, ctx, "ppf-widget.png")
}

// TestBrowserSpeed measures the API in Chromium: one score() awaited at a
// time, and scoreBatch of 1,000 policies. Budgets (docs/browser.md): 50 µs and 20 ms.
func TestBrowserSpeed(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler(web.Demo()))
	defer srv.Close()
	do(t, ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`#ppf-app[data-state="ready"]`)))
	for _, layers := range []int{5, 32} {
		pj := web.Demo().Predictor
		if layers != 5 {
			pj = trainPredictor(t, layers)
		}
		res := eval[speed](t, ctx, `(async () => {
			await ppf.reset();
			const info = await ppf.loadPredictor(`+jsString(pj)+`), L = info.layers.length;
			let seed = 1;
			const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
			const ps = Array.from({length: 1000}, () => ({heads: Array.from({length: L}, () => 0.25 + 0.75 * rnd()), mlp: Array.from({length: L}, () => 0.1 + 0.9 * rnd())}));
			const typed = ps.map(p => ({heads: Float64Array.from(p.heads), mlp: Float64Array.from(p.mlp)}));
			for (let i = 0; i < 300; i++) await ppf.score(ps[i]);
			let best = Infinity, bestBatch = Infinity, bestTyped = Infinity, out;
			for (let rep = 0; rep < 5; rep++) {
				let t0 = performance.now();
				for (let i = 0; i < 1000; i++) await ppf.score(ps[i]);
				best = Math.min(best, (performance.now() - t0) / 1000 * 1000);
				t0 = performance.now();
				out = await ppf.scoreBatch(ps);
				bestBatch = Math.min(bestBatch, performance.now() - t0);
				t0 = performance.now();
				await ppf.scoreBatch(typed);
				bestTyped = Math.min(bestTyped, performance.now() - t0);
			}
			return {ScoreMicros: best, BatchMillis: bestBatch, TypedBatchMillis: bestTyped, Same: out[7] === await ppf.score(ps[7])};
		})()`)
		t.Logf("%d layers, Chromium: score %.1f µs, scoreBatch(1,000) %.2f ms (arrays) %.2f ms (Float64Arrays)", layers, res.ScoreMicros, res.BatchMillis, res.TypedBatchMillis)
		if !res.Same {
			t.Error("scoreBatch and score disagree")
		}
	}
}

type speed struct {
	ScoreMicros, BatchMillis, TypedBatchMillis float64
	Same                                       bool
}

func jsString(b []byte) string {
	s, _ := json.Marshal(string(b))
	return string(s)
}

// trainPredictor trains a quick predictor for a model of the given
// depth, for timing only.
func trainPredictor(t testing.TB, layers int) []byte {
	t.Helper()
	space, err := predictor.NewLlamaSpace("deep", predictor.LlamaDims{Layers: layers, Dim: 4096, Heads: 32, KVHeads: 8, Hidden: 11008}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := predictor.NewSynthetic(space, 1)
	data, err := task.Dataset(200, 0.05, 0.7, 1.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := predictor.DefaultTrainConfig()
	cfg.MaxEpochs = 3
	p, err := predictor.Train(context.Background(), space, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
