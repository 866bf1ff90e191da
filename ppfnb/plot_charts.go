package ppfnb

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/chart"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Curve is one named series of a line chart: the points (X[i], Y[i]).
type Curve struct {
	Name string
	X, Y []float64
}

// Axis labels shared by the charts.
const (
	labelRatio = "global pruning ratio (share of block parameters removed)"
	labelPPL   = "perplexity (log scale)"
)

// PlotPerplexity draws perplexity against the global pruning ratio, one
// line per curve (a pruning method: X its achieved ratios, Y its
// perplexities), on a log axis, with the dense model's perplexity as a
// dashed line (dense 0: none). Lower is better.
func PlotPerplexity(title string, dense float64, curves []Curve) *Figure {
	p := chart.NewPanel("", labelRatio, labelPPL)
	leg := &chart.Legend{}
	lo, hi := math.Inf(1), math.Inf(-1)
	xmin, xmax := math.Inf(1), 0.0
	names := make([]string, len(curves))
	for i, c := range curves {
		names[i] = c.Name
	}
	colors := seriesColorsFor(names)
	for i, c := range curves {
		pts := chart.Finite(chart.XYs(c.X, c.Y), true)
		if len(pts) == 0 {
			continue
		}
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		for k := range pts {
			lo, hi, xmin, xmax = min(lo, pts[k].Y), max(hi, pts[k].Y), min(xmin, pts[k].X), max(xmax, pts[k].X)
			pts[k].Y = chart.Log(pts[k].Y)
		}
		line, marks := chart.NewLine(pts, colors[i], 1.5), chart.NewPoints(pts, colors[i], chart.Glyph(i), 3)
		p.Add(line, marks)
		leg.Add(c.Name, line, marks)
	}
	// The ratio axis: from 0 when the data start near it, else from just
	// before the first ratio measured.
	if math.IsInf(xmin, 0) {
		xmin = 0
	}
	p.X.Min, p.X.Max = math.Max(0, math.Floor(20*(xmin-0.05)+0.01)/20), xmax+0.03 // a multiple of 0.05 below the first ratio
	if xmin < 0.12 {
		p.X.Min = 0
	}
	p.X.Tick.Marker = chart.StepTicks{Step: 0.1, Format: "%.1f"}
	if xmax-p.X.Min < 0.35 {
		p.X.Tick.Marker = chart.StepTicks{Step: 0.05, Format: "%.2f"}
	}
	if dense > 0 {
		d := chart.NewDashed(plotter.XYs{{X: p.X.Min, Y: chart.Log(dense)}, {X: p.X.Max, Y: chart.Log(dense)}}, color.Gray{Y: 90}, 1.2)
		p.Add(d)
		leg.Add(fmt.Sprintf("dense model (%.2f)", dense), d)
		lo, hi = min(lo, dense), max(hi, dense)
	}
	chart.LogRange(&p.Y, lo, hi)
	if title == "" {
		title = "Perplexity after pruning (lower is better)"
	}
	return &Figure{Title: title, Width: 860, Height: 500, Panels: []*plot.Plot{p}, Legend: leg}
}

// PlotPolicies draws layer-wise pruning policies of the engine (prune)
// as bars: per layer, the share of its attention (KV groups with their
// query heads) and of its MLP channels each policy removes, one colour
// per policy, the two side by side. A dropped layer shows 100% in both.
func PlotPolicies(title string, s prune.Shape, names []string, policies []prune.Policy) *Figure {
	heads := make([][]float64, len(policies))
	mlp := make([][]float64, len(policies))
	for i, pol := range policies {
		heads[i], mlp[i] = pol.Ratios(s)
	}
	return policyFigure(title, names, heads, mlp)
}

// PlotSpacePolicies is PlotPolicies for policies in the predictor's
// vocabulary (the agent's and the search's), in their Space.
func PlotSpacePolicies(title string, s predictor.Space, names []string, policies []predictor.Policy) *Figure {
	heads := make([][]float64, len(policies))
	mlp := make([][]float64, len(policies))
	for i, pol := range policies {
		h, m := s.Fractions(pol)
		heads[i], mlp[i] = removed(h), removed(m)
	}
	return policyFigure(title, names, heads, mlp)
}

// removed turns kept fractions into removed ones.
func removed(kept []float64) []float64 {
	out := make([]float64, len(kept))
	for i, k := range kept {
		out[i] = 1 - k
	}
	return out
}

// policyFigure draws removed shares per layer, grouped bars per method.
func policyFigure(title string, names []string, heads, mlp [][]float64) *Figure {
	all := make([]string, len(heads))
	for i := range all {
		all[i] = nameAt(names, i)
	}
	colors := seriesColorsFor(all)
	panel := func(heading string, values [][]float64) *plot.Plot {
		p := chart.NewPanel(heading, "layer (0 = first, next to the embedding)", "removed from the layer")
		n := len(values)
		layers := 0
		for _, v := range values {
			layers = max(layers, len(v))
		}
		group := 0.8 // share of a layer's slot the bars fill
		for i, v := range values {
			w := group / float64(max(n, 1))
			p.Add(&chart.Bars{Values: v, Offset: -group/2 + w*(float64(i)+0.5), Width: w * 0.9, Color: colors[i]})
		}
		p.X.Min, p.X.Max = -0.5, float64(layers)-0.5
		p.X.Tick.Marker = chart.IntTicks{Step: chart.TickStep(layers, 16)}
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = chart.PercentTicks{Step: 0.25}
		p.X.Padding, p.Y.Padding = 0, 0
		return p
	}
	leg := &chart.Legend{}
	for i := range heads {
		leg.Add(nameAt(names, i), &chart.Bars{Color: colors[i]})
	}
	if title == "" {
		title = "Layer-wise pruning policies"
	}
	return &Figure{Title: title, Width: 980, Height: 420, Legend: leg, Panels: []*plot.Plot{
		panel("Attention: KV groups removed", heads),
		panel("MLP: channels removed", mlp),
	}}
}

func nameAt(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("policy %d", i+1)
}

// PlotParity draws predicted against measured perplexity, one point per
// policy (coloured by its global ratio when ratios is not nil), on log
// axes, with the line where they are equal. The title gets a second
// line with Spearman's rank correlation, which is what matters for
// choosing between policies.
func PlotParity(title string, predicted, measured, ratios []float64) *Figure {
	p := chart.NewPanel("", "measured perplexity (log scale)", "predicted perplexity (log scale)")
	leg := &chart.Legend{}
	n := min(len(predicted), len(measured))
	lo, hi := math.Inf(1), math.Inf(-1)
	var pts plotter.XYs
	var rs []float64
	for i := 0; i < n; i++ {
		x, y := measured[i], predicted[i]
		if !(x > 0) || !(y > 0) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
		if i < len(ratios) {
			rs = append(rs, ratios[i])
		}
		lo, hi = min(lo, x, y), max(hi, x, y)
	}
	if len(pts) == 0 {
		lo, hi = 1, 10
	}
	for k := range pts {
		pts[k].X, pts[k].Y = chart.Log(pts[k].X), chart.Log(pts[k].Y)
	}
	lo, hi = chart.Log(chart.Snap(lo/1.05, false)), chart.Log(chart.Snap(hi*1.05, true))
	diag := chart.NewDashed(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}, color.Gray{Y: 60}, 1.2)
	band := func(f float64) *plotter.Line {
		return chart.NewLine(plotter.XYs{{X: lo, Y: lo + chart.Log(f)}, {X: hi, Y: hi + chart.Log(f)}}, color.Gray{Y: 170}, 0.8)
	}
	up, down := band(1.1), band(1/1.1)
	p.Add(up, down, diag)
	leg.Add("predicted = measured", diag)
	leg.Add("±10%", up)
	f := &Figure{Width: 720, Height: 600, Panels: []*plot.Plot{p}, Legend: leg}
	if len(rs) == len(pts) && len(pts) > 0 {
		rlo, rhi := math.Inf(1), math.Inf(-1)
		for _, r := range rs {
			rlo, rhi = min(rlo, r), max(rhi, r)
		}
		rlo, rhi = math.Floor(rlo*20)/20, math.Ceil(rhi*20)/20 // to multiples of 0.05
		if rhi-rlo < 0.05 {
			rhi = rlo + 0.05
		}
		for i, q := range pts {
			s := chart.NewPoints(plotter.XYs{q}, chart.ViridisRamp.At((rs[i]-rlo)/(rhi-rlo)), draw.CircleGlyph{}, 3.5)
			p.Add(s)
		}
		f.Bar = &chart.ColorBar{Ramp: chart.ViridisRamp, Min: rlo, Max: rhi, Label: "global pruning ratio of the policy", Format: "%.2f"}
	} else {
		s := chart.NewPoints(pts, chart.Palette[0], draw.CircleGlyph{}, 3.5)
		p.Add(s)
		leg.Add("a policy", s)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	p.X.Tick.Marker, p.Y.Tick.Marker = chart.LogTicks{}, chart.LogTicks{}
	logP, logM := make([]float64, len(pts)), make([]float64, len(pts))
	for i, q := range pts {
		logP[i], logM[i] = q.Y, q.X
	}
	if title == "" {
		title = "Predicted against measured perplexity"
	}
	f.Title = fmt.Sprintf("%s\nSpearman rank correlation %.3f (n = %d)", title, predictor.Spearman(logP, logM), len(pts))
	return f
}

// PlotPredictorParity scores the held-out records of test with pr and
// draws PlotParity. The title also gives the mean rank correlation inside
// 0.1-wide ratio buckets: how well the predictor orders policies of one
// ratio, which is what the agent and the search need.
func PlotPredictorParity(pr *predictor.Predictor, test predictor.Dataset) (*Figure, error) {
	logs, err := pr.Predict(test)
	if err != nil {
		return nil, err
	}
	pred := make([]float64, len(logs))
	meas := make([]float64, len(test))
	for i := range test {
		pred[i], meas[i] = math.Exp(logs[i]), test[i].Perplexity
	}
	f := PlotParity(fmt.Sprintf("Predictor on %d held-out measured policies", len(test)), pred, meas, test.Ratios())
	if rep, err := predictor.Compare(logs, test.LogPPL(), test.Ratios(), 0.1); err == nil {
		var sum float64
		var k int
		for _, b := range rep.Buckets {
			if b.Metrics.N >= 3 {
				sum, k = sum+b.Metrics.Spearman, k+1
			}
		}
		if k > 0 {
			f.Title += fmt.Sprintf("\nwithin 0.1-wide ratio buckets: %.3f (mean of %d buckets)", sum/float64(k), k)
		}
	}
	return f, nil
}

// PlotPredictorTraining draws a predictor's training curve: the error of
// log-perplexity on its training and validation records per epoch, and
// the epoch whose weights were kept.
func PlotPredictorTraining(s predictor.TrainSummary) *Figure {
	p := chart.NewPanel("", "epoch", "RMSE of log-perplexity (log scale)")
	leg := &chart.Legend{}
	var tr, va plotter.XYs
	for _, e := range s.Curve {
		tr = append(tr, plotter.XY{X: float64(e.Epoch), Y: e.TrainRMSE})
		va = append(va, plotter.XY{X: float64(e.Epoch), Y: e.ValRMSE})
	}
	tr, va = chart.Finite(tr, true), chart.Finite(va, true)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xy := range []plotter.XYs{tr, va} {
		for k := range xy {
			lo, hi = min(lo, xy[k].Y), max(hi, xy[k].Y)
			xy[k].Y = chart.Log(xy[k].Y)
		}
	}
	if len(tr) > 0 {
		l := chart.NewLine(tr, chart.Palette[0], 1.5)
		p.Add(l)
		leg.Add(fmt.Sprintf("training (%d records)", s.TrainN), l)
	}
	if len(va) > 0 {
		l := chart.NewLine(va, chart.Palette[1], 1.5)
		p.Add(l)
		leg.Add(fmt.Sprintf("validation (%d records)", s.ValN), l)
	}
	chart.LogRange(&p.Y, lo, hi)
	if s.BestEpoch > 0 {
		k := chart.NewDashed(plotter.XYs{{X: float64(s.BestEpoch), Y: p.Y.Min}, {X: float64(s.BestEpoch), Y: p.Y.Max}}, color.Gray{Y: 60}, 1)
		p.Add(k)
		leg.Add(fmt.Sprintf("kept: epoch %d", s.BestEpoch), k)
	}
	p.X.Min = 0
	p.X.Tick.Marker = chart.IntTicks{Step: chart.TickStep(len(s.Curve), 10)}
	title := fmt.Sprintf("Predictor training: validation RMSE %.4f at the kept epoch", s.ValRMSE)
	return &Figure{Title: title, Width: 820, Height: 420, Panels: []*plot.Plot{p}, Legend: leg}
}

// PlotAgentTraining draws the agent's training curve (agent.Agent's
// Curve): the mean reward of the policies it sampled at each update, and
// its gain over the uniform policy in log-perplexity, per update and on
// the fixed grid of ratios, where the best weights were kept.
func PlotAgentTraining(curve []agent.Step) *Figure {
	reward := chart.NewPanel("Reward while training", "update", "mean reward (−log perplexity)")
	gain := chart.NewPanel("Against the uniform policy", "update", "gain over uniform (log-perplexity)")
	leg := &chart.Legend{}
	var rw, gn, grid, kept plotter.XYs
	for _, s := range curve {
		x := float64(s.Step)
		rw = append(rw, plotter.XY{X: x, Y: s.MeanReward})
		gn = append(gn, plotter.XY{X: x, Y: s.Gain})
		if s.Evaluated {
			grid = append(grid, plotter.XY{X: x, Y: s.GridGain})
			if s.Kept {
				kept = append(kept, plotter.XY{X: x, Y: s.GridGain})
			}
		}
	}
	rw, gn, grid, kept = chart.Finite(rw, false), chart.Finite(gn, false), chart.Finite(grid, false), chart.Finite(kept, false)
	if len(rw) > 0 {
		l := chart.NewLine(rw, chart.Palette[0], 1)
		reward.Add(l)
		leg.Add("mean reward of sampled policies", l)
	}
	if len(gn) > 0 {
		last := gn[len(gn)-1].X
		zero := chart.NewDashed(plotter.XYs{{X: 0, Y: 0}, {X: last, Y: 0}}, color.Gray{Y: 90}, 1)
		l := chart.NewLine(gn, chart.Palette[5], 1)
		gain.Add(zero, l)
		leg.Add("uniform policy (gain 0)", zero)
		leg.Add("gain at the update's ratios", l)
	}
	if len(grid) > 0 {
		g := chart.NewLine(grid, chart.Palette[1], 1.5)
		gm := chart.NewPoints(grid, chart.Palette[1], draw.CircleGlyph{}, 2.5)
		gain.Add(g, gm)
		leg.Add("gain on the fixed grid of ratios", g, gm)
	}
	if len(kept) > 0 {
		best := kept[len(kept)-1:]
		k := chart.NewPoints(best, color.Black, draw.RingGlyph{}, 6)
		gain.Add(k)
		leg.Add(fmt.Sprintf("kept weights (update %.0f)", best[0].X), k)
	}
	steps := 0
	if len(curve) > 0 {
		steps = curve[len(curve)-1].Step
	}
	for _, p := range []*plot.Plot{reward, gain} {
		p.X.Min = 0
		p.X.Tick.Marker = chart.IntTicks{Step: chart.TickStep(steps, 8)}
	}
	leg.Below = true
	return &Figure{Title: "Agent training", Width: 960, Height: 460, Legend: leg, Panels: []*plot.Plot{reward, gain}}
}

// PlotDynamic draws a dynamic-pruning trace: the global ratio asked for
// at each step (the budget changing over time), the perplexity of each
// step's policy when perplexity is not nil (predicted or measured), and
// the policy the agent returned at each step as two heat maps, the share
// of each layer's attention and MLP removed.
func PlotDynamic(title string, s predictor.Space, ratios []float64, policies []predictor.Policy, perplexity []float64) *Figure {
	n := min(len(ratios), len(policies))
	layers := len(s.Layers)
	step := chart.IntTicks{Step: chart.TickStep(n, 20)}
	setX := func(p *plot.Plot) {
		p.X.Min, p.X.Max = -0.5, float64(n)-0.5
		p.X.Tick.Marker = step
		p.X.Padding = 0
	}
	budget := chart.NewPanel("Requested global ratio", "", "ratio")
	var pts plotter.XYs
	for t := 0; t < n; t++ {
		pts = append(pts, plotter.XY{X: float64(t) - 0.5, Y: ratios[t]}, plotter.XY{X: float64(t) + 0.5, Y: ratios[t]})
	}
	if len(pts) > 0 {
		budget.Add(chart.NewLine(pts, chart.Palette[0], 2))
	}
	setX(budget)
	budget.Y.Min, budget.Y.Max = 0, 0.1*math.Ceil(10*maxOf(ratios[:n])+0.5)
	budget.Y.Tick.Marker = chart.StepTicks{Step: 0.1, Format: "%.1f"}
	panels := []*plot.Plot{budget}

	if perplexity != nil {
		pp := chart.NewPanel("Perplexity of the step's policy", "", "perplexity (log)")
		var q plotter.XYs
		for t := 0; t < n && t < len(perplexity); t++ {
			q = append(q, plotter.XY{X: float64(t), Y: perplexity[t]})
		}
		q = chart.Finite(q, true)
		if len(q) > 0 {
			lo, hi := math.Inf(1), math.Inf(-1)
			for k := range q {
				lo, hi = min(lo, q[k].Y), max(hi, q[k].Y)
				q[k].Y = chart.Log(q[k].Y)
			}
			pp.Add(chart.NewLine(q, chart.Palette[4], 1.5), chart.NewPoints(q, chart.Palette[4], draw.CircleGlyph{}, 2.5))
			chart.LogRange(&pp.Y, lo, hi)
		}
		setX(pp)
		panels = append(panels, pp)
	}

	heat := func(heading string, head bool) *plot.Plot {
		z := make([][]float64, layers)
		for l := range z {
			z[l] = make([]float64, n)
		}
		for t := 0; t < n; t++ {
			h, m := s.Fractions(policies[t])
			v := m
			if head {
				v = h
			}
			for l := 0; l < layers && l < len(v); l++ {
				z[l][t] = 1 - v[l]
			}
		}
		p := chart.NewPanel(heading, "", "layer")
		p.Add(&chart.Cells{Z: z, Ramp: chart.HeatRamp})
		setX(p)
		p.Y.Min, p.Y.Max = -0.5, float64(layers)-0.5
		p.Y.Tick.Marker = chart.IntTicks{Step: chart.TickStep(layers, 12)}
		p.Y.Padding = 0
		return p
	}
	panels = append(panels, heat("Agent's policy: attention (KV groups) removed per layer", true),
		heat("Agent's policy: MLP channels removed per layer", false))
	panels[len(panels)-1].X.Label.Text = "step (time): a new budget, a new policy"
	rows := len(panels)
	if title == "" {
		title = "Dynamic pruning: the budget moves, the agent answers"
	}
	return &Figure{Title: title, Width: 900, Height: 150 + 170*rows, Cols: 1, Panels: panels,
		Bar: &chart.ColorBar{Ramp: chart.HeatRamp, Min: 0, Max: 100, Label: "removed from the layer (%)", Format: "%.0f%%", First: rows - 2, Last: rows - 1}}
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if !math.IsNaN(x) {
			m = max(m, x)
		}
	}
	return m
}
