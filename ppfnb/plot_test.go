package ppfnb

import (
	"bytes"
	"context"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/display"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// readmeSweep is the stories260K block of docs/pruning.md's table
// (held-out TinyStories), as a notebook would fill it in.
func readmeSweep() *Sweep {
	sw := &Sweep{Title: "stories260K, held-out TinyStories, windows of 256", Dense: 5.77}
	ratios := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	table := map[string][]float64{
		"uniform":  {12.38, 18.66, 45.23, 99.44, 202.02},
		"wanda-sp": {8.92, 14.46, 28.01, 58.86, 119.56},
		"owl":      {8.51, 14.06, 25.76, 50.52, 115.61},
		"flap":     {7.56, 11.97, 19.90, 30.05, 49.76},
		"shortgpt": {13.41, 13.41, 81.47, 81.47, 1469.25},
	}
	for _, m := range []string{"uniform", "wanda-sp", "owl", "flap", "shortgpt"} {
		for i, r := range ratios {
			achieved := r
			if m == "shortgpt" {
				achieved = []float64{0.2, 0.2, 0.4, 0.4, 0.6}[i]
			}
			sw.Add(m, r, achieved, table[m][i])
		}
	}
	return sw
}

// testSpace is stories260K's pruning space.
func testSpace(t *testing.T) predictor.Space {
	t.Helper()
	s, err := predictor.NewLlamaSpace("stories260K", predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testFigures makes every chart from fixed data: docs/pruning.md's table, and
// a predictor and an agent trained on package predictor's synthetic task.
func testFigures(t *testing.T) map[string]*Figure {
	t.Helper()
	ctx := context.Background()
	space := testSpace(t)
	task, err := predictor.NewSynthetic(space, 7)
	if err != nil {
		t.Fatal(err)
	}
	data, err := task.Dataset(300, 0.05, 0.65, 1.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	train, test := data.Split(0.2, 1)
	pr, err := predictor.Train(ctx, space, train, predictor.DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.DefaultConfig()
	cfg.Steps, cfg.RatioMin, cfg.RatioMax = 120, 0.05, 0.6
	ag, err := agent.Train(ctx, space, pr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	parity, err := PlotPredictorParity(pr, test)
	if err != nil {
		t.Fatal(err)
	}

	shape := prune.Shape{Dim: 64, HeadDim: 8, MinGroups: 1, MinChannels: 1}
	for range 5 {
		shape.Layers = append(shape.Layers, prune.LayerShape{Heads: 8, KVHeads: 4, Channels: 172})
	}
	uniform, err := prune.Allocate(shape, 0.3, []float64{1, 1, 1, 1, 1}, []float64{1, 1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	skewed, err := prune.Allocate(shape, 0.3, []float64{0.1, 0.25, 0.5, 0.5, 0.25}, []float64{0.1, 0.3, 0.45, 0.45, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	dropped := prune.Dense(shape)
	dropped.Layers[3] = prune.LayerPolicy{Drop: true}

	budget := []float64{0.1, 0.1, 0.2, 0.3, 0.3, 0.5, 0.5, 0.4, 0.25, 0.15, 0.15, 0.35}
	var pols []predictor.Policy
	var ppl []float64
	for _, r := range budget {
		p, err := ag.Policy(r)
		if err != nil {
			t.Fatal(err)
		}
		v, err := pr.Perplexity(p)
		if err != nil {
			t.Fatal(err)
		}
		pols, ppl = append(pols, p), append(ppl, v)
	}
	agentPol, _ := ag.Policy(0.3)
	uniPol, _ := space.Uniform(0.3)

	return map[string]*Figure{
		"perplexity":      readmeSweep().Plot(),
		"policies":        PlotPolicies("Per-layer policy at ratio 0.3", shape, []string{"uniform", "owl", "shortgpt"}, []prune.Policy{uniform, skewed, dropped}),
		"space-policies":  PlotSpacePolicies("Agent against uniform at ratio 0.3", space, []string{"uniform", "ppf-dynamic"}, []predictor.Policy{uniPol, agentPol}),
		"parity":          parity,
		"predictor-train": PlotPredictorTraining(pr.Summary()),
		"agent-train":     PlotAgentTraining(ag.Curve()),
		"dynamic":         PlotDynamic("", space, budget, pols, ppl),
		"dynamic-no-ppl":  PlotDynamic("Dynamic pruning without perplexity", space, budget, pols, nil),
	}
}

// TestFigures renders every chart as PNG and SVG and checks that both
// decode with the figure's size. With PPF_PLOT_DIR set it also writes
// them there, to look at.
func TestFigures(t *testing.T) {
	dir := os.Getenv("PPF_PLOT_DIR")
	for name, f := range testFigures(t) {
		b := f.PNG()
		if b == nil {
			err := f.Save(filepath.Join(t.TempDir(), name+".png"))
			t.Fatalf("%s: no PNG: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sz := img.Bounds().Size(); sz.X != f.Width || sz.Y != f.Height {
			t.Errorf("%s: PNG is %v, want %dx%d", name, sz, f.Width, f.Height)
		}
		svg := f.AsSVG().SVG()
		if !strings.Contains(svg, "<svg") || !strings.Contains(svg, "Arial") {
			t.Fatalf("%s: no SVG, or one without fallback fonts", name)
		}
		dec := xml.NewDecoder(strings.NewReader(svg))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: the SVG is not XML: %v", name, err)
			}
		}
		// A notebook shows a Figure as PNG only (frontends would pick an
		// SVG first), and its AsSVG form as SVG only.
		bundle, svgBundle := display.Bundle(f), display.Bundle(f.AsSVG())
		if bundle[display.MIMEPNG] == nil || bundle[display.MIMESVG] != nil || svgBundle[display.MIMESVG] == nil || svgBundle[display.MIMEPNG] != nil {
			t.Errorf("%s: bundles %v and %v", name, keys(bundle), keys(svgBundle))
		}
		if dir != "" {
			if err := f.Save(filepath.Join(dir, name+".png")); err != nil {
				t.Error(err)
			}
			if err := f.Save(filepath.Join(dir, name+".svg")); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestEmptyCharts checks that the charts draw (empty axes) without data,
// or with data that cannot be placed, instead of failing in a cell;
// package chart tests the figures' own errors.
func TestEmptyCharts(t *testing.T) {
	for name, f := range map[string]*Figure{
		"no curves":        PlotPerplexity("t", 0, nil),
		"a NaN curve":      PlotPerplexity("", 0, []Curve{{Name: "none", X: []float64{0.1}, Y: []float64{math.NaN()}}}),
		"no parity points": PlotParity("", nil, nil, nil),
		"no epochs":        PlotPredictorTraining(predictor.TrainSummary{}),
		"no updates":       PlotAgentTraining(nil),
	} {
		if err := f.Save(filepath.Join(t.TempDir(), "x.png")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSweepTable checks the table a notebook shows: rows, the achieved
// ratio in brackets, the best of each column in bold.
func TestSweepTable(t *testing.T) {
	sw := readmeSweep()
	h, rows := sw.Rows()
	if len(h) != 6 || h[1] != "ratio 0.1" || len(rows) != 5 || rows[4][0] != "shortgpt" {
		t.Fatalf("header %v rows %v", h, rows)
	}
	if rows[4][1] != "13.41 (0.2)" || rows[4][2] != "13.41" || rows[3][3] != "19.90" {
		t.Errorf("shortgpt row %v, flap row %v", rows[4], rows[3])
	}
	if b := sw.Best(0.2); b != "flap" {
		t.Errorf("best at 0.2: %q, want flap", b)
	}
	html := sw.HTML()
	for _, want := range []string{"<b>7.56</b>", "<td>13.41 (0.2)</td>", "dense 5.77", "<th>ratio 0.5</th>", "ShortGPT removes whole layers"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	if s := sw.String(); !strings.Contains(s, "flap") || !strings.Contains(s, "1469.25 (0.6)") {
		t.Errorf("text table:\n%s", s)
	}
	if _, ok := sw.Get("flap", 0.35); ok {
		t.Error("Get found a ratio never measured")
	}
}

// TestPerplexityAxis checks the ratio axis: from 0 when the ratios start
// near it, else from the multiple of 0.05 below the first one, even when
// an achieved ratio falls a hair short of the one asked for.
func TestPerplexityAxis(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{0.1, 0.3}, 0},
		{[]float64{0.19996, 0.3, 0.4}, 0.15},
		{[]float64{0.4, 0.5}, 0.35},
	} {
		f := PlotPerplexity("", 5, []Curve{{Name: "flap", X: c.x, Y: []float64{10, 20, 30}[:len(c.x)]}})
		if got := f.Panels[0].X.Min; math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ratios %v: axis from %v, want %v", c.x, got, c.want)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
