package ppfnb

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BucketSpearman is the mean Spearman correlation inside the ratio
// buckets of the predictor's report that hold at least 3 policies: how
// well it ranks policies of one ratio, which is what the agent and the
// search need (overall figures are flattered by the ratio alone).
func (r *ExperimentResult) BucketSpearman() float64 {
	var sum float64
	var n int
	for _, b := range r.Predictor.Buckets {
		if b.Metrics.N >= 3 {
			sum += b.Metrics.Spearman
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Table formats the results as text, or as Markdown tables when markdown
// is true (docs/pipeline.md's).
func (r *ExperimentResult) Table(markdown bool) string {
	var sb strings.Builder
	ratios := r.Options.Ratios
	grid := func(title string, value func(*MethodResult) float64) {
		fmt.Fprintf(&sb, "%s\n\n", title)
		best := make([]float64, len(ratios))
		for j, ratio := range ratios {
			best[j] = math.Inf(1)
			for _, m := range ExperimentMethods() {
				if c := r.Cell(m, ratio); c != nil && m != "shortgpt" {
					best[j] = min(best[j], value(c))
				}
			}
		}
		head := []string{"method"}
		for _, ratio := range ratios {
			head = append(head, fmt.Sprintf("%.2g", ratio))
		}
		row := func(cells []string) {
			if markdown {
				fmt.Fprintf(&sb, "| %s |\n", strings.Join(cells, " | "))
				return
			}
			fmt.Fprintf(&sb, "%-18s", cells[0])
			for _, c := range cells[1:] {
				fmt.Fprintf(&sb, " %14s", c)
			}
			sb.WriteByte('\n')
		}
		row(head)
		if markdown {
			sep := []string{"---"}
			for range ratios {
				sep = append(sep, "---")
			}
			row(sep)
		}
		for _, m := range ExperimentMethods() {
			cells := []string{m}
			for j, ratio := range ratios {
				c := r.Cell(m, ratio)
				if c == nil {
					cells = append(cells, "-")
					continue
				}
				s := fmt.Sprintf("%.2f", value(c))
				if math.Abs(c.Achieved-ratio) > 0.005 {
					s += fmt.Sprintf(" (%.1f)", c.Achieved)
				}
				if value(c) == best[j] {
					if markdown {
						s = "**" + s + "**"
					} else {
						s += "*"
					}
				}
				cells = append(cells, s)
			}
			row(cells)
		}
		sb.WriteByte('\n')
	}
	s := r.Slices
	fmt.Fprintf(&sb, "%s (model id %s), %s units; %d measured policies (%d resumed), %d more measured by the searches\n",
		r.Options.Model, r.ModelID, r.Units, r.Dataset.Records, r.Dataset.Resumed, r.Dataset.Searched)
	sb.WriteString(s.String())
	fmt.Fprintf(&sb, "dense perplexity: report %.3f, search %.3f", r.Dense.Report, r.Dense.Search)
	if s.Wiki != "" {
		fmt.Fprintf(&sb, ", WikiText-2 %.2f", r.Dense.Wiki)
	}
	sb.WriteString("\n\n")
	grid(fmt.Sprintf("Perplexity on the report slice (%s tokens [%d, %d), held out), by global ratio; * best (shortgpt's achieved ratio in brackets):",
		filepath.Base(s.Text), s.Report.From, s.Report.To), func(c *MethodResult) float64 { return c.Report })
	if s.Wiki != "" {
		grid(fmt.Sprintf("Perplexity on WikiText-2 (first %d tokens):", s.WikiTokens), func(c *MethodResult) float64 { return c.Wiki })
	}
	m := r.Predictor.Overall
	fmt.Fprintf(&sb, "Predictor on %d held-out measured policies (log-perplexity): MAE %.4f, RMSE %.4f, relative perplexity error %.2f%%, Spearman %.4f, Kendall %.4f; within 0.1-wide ratio buckets, mean Spearman %.3f\n",
		m.N, m.MAE, m.RMSE, 100*m.RelPPLError, m.Spearman, m.Kendall, r.BucketSpearman())
	fmt.Fprintf(&sb, "Agent trained for ratios [%.3g, %.3g]; every policy on a grid of 101 ratios meets its ratio: %v\n",
		r.AgentRange[0], r.AgentRange[1], r.AgentMeets)
	t := r.Timing
	fmt.Fprintf(&sb, "Timing: one real evaluation (search slice, %d tokens) %s; one predictor score %s (%.0fx faster); one agent call %s\n",
		t.EvalTokens, shortDuration(t.EvalSeconds), shortDuration(t.ScoreSeconds), t.EvalSeconds/t.ScoreSeconds, shortDuration(t.AgentSeconds))
	for _, sr := range r.Searches {
		fmt.Fprintf(&sb, "Search at %.2g: best start %s %.3f -> %.3f (%s, round %d) on the search slice, %d measurements, %.1fs\n",
			sr.Ratio, strings.TrimPrefix(sr.BestStart.Source, "start:"), sr.BestStart.Perplexity, sr.Best.Perplexity,
			sr.Best.Source, sr.Best.Round, len(sr.Records), sr.Seconds)
	}
	names := make([]string, 0, len(t.Stages))
	for k := range t.Stages {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(stageOrder(a), stageOrder(b)) })
	sb.WriteString("Stages:")
	for _, k := range names {
		fmt.Fprintf(&sb, " %s %.1fs,", k, t.Stages[k])
	}
	fmt.Fprintf(&sb, " total %.1fs\n", t.Total)
	return sb.String()
}

func stageOrder(s string) string {
	order := []string{"calibrate", "collect", "train predictor", "train agent", "timing", "search", "retrain", "report"}
	return fmt.Sprintf("%02d", slices.Index(order, s)+1)
}

// shortDuration formats seconds with a unit that suits them.
func shortDuration(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Duration(max(1, int64(s*1e9/1000)))).String()
}
