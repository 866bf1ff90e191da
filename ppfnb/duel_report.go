package ppfnb

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/ppfkit/ppf/ppfnb/chart"
)

// DuelMethods are the duel's searches, in table order.
func DuelMethods() []string {
	return []string{MethodEvoPress, MethodRandomSearch, MethodPPF, MethodPPFFocused}
}

// methods are the duel's searches that ran, in table order.
func (r *DuelResult) methods() []string {
	var out []string
	for _, m := range DuelMethods() {
		if slices.ContainsFunc(r.Runs, func(run DuelRun) bool { return run.Method == m }) {
			out = append(out, m)
		}
	}
	return out
}

// Spread is a mean over seeds with its range.
type Spread struct {
	Mean, Min, Max float64
	N              int // seeds that had a value
}

func spreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{Mean: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	s := Spread{Min: slices.Min(v), Max: slices.Max(v), N: len(v)}
	for _, x := range v {
		s.Mean += x / float64(len(v))
	}
	return s
}

// String prints the mean and, over several seeds, the range.
func (s Spread) String() string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.2f", s.Mean)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", s.Mean, s.Min, s.Max)
}

// Anytime returns method's curve at ratio over the seeds: at each
// checkpoint (in tokens) the spread of its incumbents' perplexity on the
// report slice (wiki: WikiText-2).
func (r *DuelResult) Anytime(method string, ratio float64, wiki bool) (tokens []int64, at []Spread) {
	var vals [][]float64
	for _, run := range r.Runs {
		if run.Method != method || math.Abs(run.Ratio-ratio) > 1e-9 {
			continue
		}
		if tokens == nil {
			for _, p := range run.Points {
				tokens = append(tokens, p.Tokens)
			}
			vals = make([][]float64, len(tokens))
		}
		for i, p := range run.Points {
			if p.Has {
				vals[i] = append(vals[i], pick(wiki, p.Wiki, p.Report))
			}
		}
	}
	for _, v := range vals {
		at = append(at, spreadOf(v))
	}
	return tokens, at
}

func pick(wiki bool, w, r float64) float64 {
	if wiki {
		return w
	}
	return r
}

// baseline returns a heuristic's result at ratio, or nil.
func (r *DuelResult) baseline(method string, ratio float64) *MethodResult {
	for i := range r.Baselines {
		if b := &r.Baselines[i]; b.Method == method && math.Abs(b.Ratio-ratio) < 1e-9 {
			return b
		}
	}
	return nil
}

// bestBaseline is the heuristic with the lowest perplexity at ratio on
// the report slice (wiki: WikiText-2).
func (r *DuelResult) bestBaseline(ratio float64, wiki bool) *MethodResult {
	var best *MethodResult
	for i := range r.Baselines {
		b := &r.Baselines[i]
		if math.Abs(b.Ratio-ratio) > 1e-9 {
			continue
		}
		if best == nil || pick(wiki, b.Wiki, b.Report) < pick(wiki, best.Wiki, best.Report) {
			best = b
		}
	}
	return best
}

// texts are the report texts the result has.
func (r *DuelResult) texts() []bool {
	if r.Slices.Wiki != "" {
		return []bool{false, true}
	}
	return []bool{false}
}

func (r *DuelResult) textName(wiki bool) string {
	if wiki {
		return fmt.Sprintf("WikiText-2 (first %d tokens, out of domain)", r.Slices.WikiTokens)
	}
	return fmt.Sprintf("held-out TinyStories report slice (%d tokens)", r.Slices.Report.Len())
}

// evals prints tokens as whole search-slice evaluations.
func (r *DuelResult) evals(tokens int64) string {
	return chart.TrimFloat(float64(tokens) / float64(r.SliceTokens))
}

// Table prints the anytime tables (one per ratio and report text), the
// spend of each method and the predictor's quality where the searches
// look; Markdown when md.
func (r *DuelResult) Table(md bool) string {
	var sb strings.Builder
	o := r.Options
	fmt.Fprintf(&sb, "Duel on %s: every search spends at most %d real evaluations of the %d-token search slice per ratio (%d tokens), seeds 1..%d; perplexity (window %d) of each method's best policy so far, mean [min, max] over seeds. EvoPress and random search minimise %s; ppf collects %d policies and ppf-focused %d near the ratios (charged in full at every ratio), then each searches on its predictor and verifies. Columns: real evaluations spent.\n\n",
		r.ModelID, o.Budget, r.SliceTokens, int64(o.Budget)*r.SliceTokens, o.Seeds, r.Slices.SeqLen, o.Fitness, o.Collect, o.ppfVariant(MethodPPFFocused).collect)
	for _, ratio := range o.Ratios {
		for _, wiki := range r.texts() {
			dense := pick(wiki, r.Dense.Wiki, r.Dense.Report)
			fmt.Fprintf(&sb, "Ratio %.2f, %s, dense %.2f\n\n", ratio, r.textName(wiki), dense)
			var header []string
			var rows [][]string
			for _, m := range r.methods() {
				tokens, at := r.Anytime(m, ratio, wiki)
				if header == nil {
					header = []string{"method"}
					for _, t := range tokens {
						header = append(header, r.evals(t))
					}
				}
				row := []string{m}
				for _, s := range at {
					row = append(row, s.String())
				}
				rows = append(rows, row)
			}
			for _, name := range []string{"flap", unitsName("uniform"), unitsName("owl"), unitsName("flap")} {
				if name == unitsName("flap") && r.Units == UnitsFLAP {
					continue // FLAP's own units: the same policy as flap
				}
				if b := r.baseline(name, ratio); b != nil {
					row := []string{name + " (no evaluations)"}
					for range header[1:] {
						row = append(row, fmt.Sprintf("%.2f", pick(wiki, b.Wiki, b.Report)))
					}
					rows = append(rows, row)
				}
			}
			writeTable(&sb, md, header, rows)
			sb.WriteString(r.verdict(ratio, wiki))
			sb.WriteString("\n")
		}
	}
	sb.WriteString("Spend per run (mean over seeds and ratios): real evaluations, tokens forwarded, predictor and agent calls, predictor trainings, seconds\n\n")
	var rows [][]string
	for _, m := range r.methods() {
		var l Ledger
		var secs float64
		k := 0
		for _, run := range r.Runs {
			if run.Method == m {
				l, secs, k = l.Add(run.Spent), secs+run.Seconds, k+1
			}
		}
		if k == 0 {
			continue
		}
		f := float64(k)
		rows = append(rows, []string{m, fmt.Sprintf("%.0f", float64(l.Evals)/f), fmt.Sprintf("%.0f", float64(l.Tokens)/f),
			fmt.Sprintf("%.0f", float64(l.PredictorCalls)/f), fmt.Sprintf("%.0f", float64(l.AgentCalls)/f), fmt.Sprintf("%.1f", float64(l.Refits)/f), fmt.Sprintf("%.1f", secs/f)})
	}
	writeTable(&sb, md, []string{"method", "evaluations", "tokens", "predictor calls", "agent calls", "trainings", "seconds"}, rows)
	if len(r.Quality) == 0 {
		return sb.String()
	}
	sb.WriteString("\nPPF's predictors where the searches look: MAE of log perplexity and Spearman on EvoPress's incumbents (measured outside the budget), for the predictor trained on the collection and the search's last refit; mean Spearman over PPF's own verified candidates per round; report perplexity of PPF-dynamic (the agent's policy) and PPF-static (the search's)\n\n")
	rows = rows[:0]
	for _, q := range r.Quality {
		rows = append(rows, []string{q.Method, fmt.Sprintf("%.2f", q.Ratio), fmt.Sprint(q.Seed), fmt.Sprint(q.Policies),
			fmt.Sprintf("%.3f", q.FirstMAE), fmt.Sprintf("%.3f", q.FinalMAE), fmt.Sprintf("%.2f", q.FirstSpearman), fmt.Sprintf("%.2f", q.FinalSpearman),
			fmt.Sprintf("%.2f", q.RoundSpearman), fmt.Sprintf("%.2f", q.DynamicReport), fmt.Sprintf("%.2f", q.StaticReport)})
	}
	writeTable(&sb, md, []string{"method", "ratio", "seed", "policies", "MAE first", "MAE refit", "ρ first", "ρ refit", "ρ rounds", "ppf-dynamic", "ppf-static"}, rows)
	return sb.String()
}

// verdict names the best method (lowest mean) at each checkpoint.
func (r *DuelResult) verdict(ratio float64, wiki bool) string {
	b := r.bestBaseline(ratio, wiki)
	var parts []string
	ms := r.methods()
	if len(ms) == 0 {
		return ""
	}
	tokens, _ := r.Anytime(ms[0], ratio, wiki)
	for i, t := range tokens {
		best, v := b.Method, pick(wiki, b.Wiki, b.Report)
		for _, m := range ms {
			if _, at := r.Anytime(m, ratio, wiki); i < len(at) && at[i].N > 0 && at[i].Mean < v {
				best, v = m, at[i].Mean
			}
		}
		parts = append(parts, fmt.Sprintf("%s: %s", r.evals(t), best))
	}
	return "\nBest by mean at each budget: " + strings.Join(parts, ", ") + "\n"
}

// writeTable prints a plain or Markdown table.
func writeTable(sb *strings.Builder, md bool, header []string, rows [][]string) {
	if md {
		sb.WriteString("| " + strings.Join(header, " | ") + " |\n|")
		for range header {
			sb.WriteString(" --- |")
		}
		sb.WriteString("\n")
		for _, row := range rows {
			sb.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
		return
	}
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			fmt.Fprintf(sb, "%-*s  ", width[i], c)
		}
		sb.WriteString("\n")
	}
}

// Plot draws the anytime curves: one panel per ratio and report text,
// perplexity of each method's best policy so far against the real
// evaluations spent (both log scales), the mean over seeds as a line and
// the range as a band; FLAP and the best heuristic as dashed lines.
func (r *DuelResult) Plot() *Figure {
	methods := r.methods()
	names := append(slices.Clone(methods), "flap", "best heuristic")
	colors := seriesColorsFor(names)
	leg := &chart.Legend{}
	var panels []*plot.Plot
	for _, ratio := range r.Options.Ratios {
		for _, wiki := range r.texts() {
			title := fmt.Sprintf("ratio %.2f, %s", ratio, map[bool]string{false: "held-out TinyStories", true: "WikiText-2"}[wiki])
			if b := r.bestBaseline(ratio, wiki); b != nil {
				title += " (best heuristic: " + b.Method + ")"
			}
			p := chart.NewPanel(title, "real evaluations spent (whole search slices, log scale)", labelPPL)
			lo, hi := math.Inf(1), math.Inf(-1)
			xmin, xmax := math.Inf(1), math.Inf(-1)
			for i, m := range methods {
				tokens, at := r.Anytime(m, ratio, wiki)
				var mean, band, top plotter.XYs
				for k, s := range at {
					if s.N == 0 {
						continue
					}
					x := chart.Log(float64(tokens[k]) / float64(r.SliceTokens))
					xmin, xmax = min(xmin, x), max(xmax, x)
					lo, hi = min(lo, s.Min), max(hi, s.Max)
					mean = append(mean, plotter.XY{X: x, Y: chart.Log(s.Mean)})
					band = append(band, plotter.XY{X: x, Y: chart.Log(s.Min)})
					top = append(top, plotter.XY{X: x, Y: chart.Log(s.Max)})
				}
				if len(mean) == 0 {
					continue
				}
				slices.Reverse(top)
				c := colors[i]
				if poly, err := plotter.NewPolygon(append(band, top...)); err == nil && len(mean) > 1 {
					poly.Color = color.NRGBA{R: c.R, G: c.G, B: c.B, A: 50}
					poly.LineStyle.Width = 0
					p.Add(poly)
				}
				line, marks := chart.NewLine(mean, c, 1.8), chart.NewPoints(mean, c, chart.Glyph(i), 3)
				p.Add(line, marks)
				if len(panels) == 0 {
					leg.Add(m+" (mean, band: min to max)", line, marks)
				}
			}
			for k, b := range []*MethodResult{r.baseline("flap", ratio), r.bestBaseline(ratio, wiki)} {
				if b == nil || math.IsInf(xmin, 0) {
					continue
				}
				v := pick(wiki, b.Wiki, b.Report)
				lo, hi = min(lo, v), max(hi, v)
				d := chart.NewDashed(plotter.XYs{{X: xmin, Y: chart.Log(v)}, {X: xmax, Y: chart.Log(v)}}, colors[len(methods)+k], 1.4)
				p.Add(d)
				if len(panels) == 0 {
					leg.Add([]string{"flap (no evaluations)", "best heuristic (no evaluations)"}[k], d)
				}
			}
			// a tight log range: the curves differ by a few percent
			p.Y.Tick.Marker = chart.NarrowLogTicks{}
			p.Y.Min, p.Y.Max = chart.Log(lo/1.04), chart.Log(hi*1.04)
			p.X.Tick.Marker = chart.LogTicks{}
			p.X.Min, p.X.Max = xmin-0.05, xmax+0.05
			panels = append(panels, p)
		}
	}
	leg.Below = true
	return &Figure{Title: fmt.Sprintf("%s: best policy so far against real evaluations (lower is better)", r.ModelID),
		Width: 1100, Height: 380 * len(r.Options.Ratios), Cols: len(r.texts()), Panels: panels, Legend: leg}
}
