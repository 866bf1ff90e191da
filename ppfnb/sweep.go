package ppfnb

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"

	"github.com/ppfkit/ppf/ppfnb/display"
)

// Sweep collects perplexities measured over pruning methods and ratios,
// and shows them as a table (the last expression of a notebook cell; its
// HTML method) and a chart (Plot).
//
//	sw := &ppfnb.Sweep{Title: "stories260K, held-out TinyStories", Dense: 5.77}
//	sw.Add("flap", 0.3, 0.3, 19.9)
//	sw        // the table
//	sw.Plot() // perplexity against ratio, one line per method
type Sweep struct {
	Title  string  // what was measured on what
	Dense  float64 // the unpruned model's perplexity; 0 when not known
	Points []SweepPoint
}

// SweepPoint is one measurement of a Sweep.
type SweepPoint struct {
	Method     string
	Ratio      float64 // asked for
	Achieved   float64 // what the method removed (ShortGPT drops whole layers, so it can differ)
	Perplexity float64
}

// Add records the perplexity of method at a ratio it was asked for and
// the ratio it achieved.
func (s *Sweep) Add(method string, ratio, achieved, perplexity float64) {
	s.Points = append(s.Points, SweepPoint{Method: method, Ratio: ratio, Achieved: achieved, Perplexity: perplexity})
}

// Methods returns the methods in the order they were first added.
func (s *Sweep) Methods() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range s.Points {
		if !seen[p.Method] {
			seen[p.Method] = true
			out = append(out, p.Method)
		}
	}
	return out
}

// Ratios returns the ratios asked for, in increasing order.
func (s *Sweep) Ratios() []float64 {
	var out []float64
	for _, p := range s.Points {
		if s.index(out, p.Ratio) < 0 {
			out = append(out, p.Ratio)
		}
	}
	sort.Float64s(out)
	return out
}

func (s *Sweep) index(rs []float64, r float64) int {
	for i, v := range rs {
		if math.Abs(v-r) < 1e-9 {
			return i
		}
	}
	return -1
}

// Get returns the measurement of method at ratio (asked for), and false
// when there is none.
func (s *Sweep) Get(method string, ratio float64) (SweepPoint, bool) {
	for _, p := range s.Points {
		if p.Method == method && math.Abs(p.Ratio-ratio) < 1e-9 {
			return p, true
		}
	}
	return SweepPoint{}, false
}

// Best returns the method of lowest perplexity at ratio among those that
// achieved it (within 0.005), and "" when none did.
func (s *Sweep) Best(ratio float64) string {
	best, bestPPL := "", math.Inf(1)
	for _, p := range s.Points {
		if math.Abs(p.Ratio-ratio) < 1e-9 && math.Abs(p.Achieved-ratio) <= 0.005 && p.Perplexity < bestPPL {
			best, bestPPL = p.Method, p.Perplexity
		}
	}
	return best
}

// Rows returns the table: a header ("method" and the ratios) and one row
// per method, perplexities to two decimals, the achieved ratio in
// brackets where it differs from the one asked for, and "-" where
// nothing was measured.
func (s *Sweep) Rows() (header []string, rows [][]string) {
	ratios := s.Ratios()
	header = []string{"method"}
	for _, r := range ratios {
		header = append(header, fmt.Sprintf("ratio %.2g", r))
	}
	for _, m := range s.Methods() {
		row := []string{m}
		for _, r := range ratios {
			row = append(row, s.cell(m, r))
		}
		rows = append(rows, row)
	}
	return header, rows
}

func (s *Sweep) cell(method string, ratio float64) string {
	p, ok := s.Get(method, ratio)
	if !ok {
		return "-"
	}
	c := fmt.Sprintf("%.2f", p.Perplexity)
	if math.Abs(p.Achieved-ratio) > 0.005 {
		c += fmt.Sprintf(" (%.2g)", p.Achieved)
	}
	return c
}

// caption is the line above the table.
func (s *Sweep) caption() string {
	c := "Perplexity after pruning"
	if s.Title != "" {
		c += ": " + s.Title
	}
	if s.Dense > 0 {
		c += fmt.Sprintf(" (dense %.2f)", s.Dense)
	}
	return c + "; lower is better"
}

// String renders the table as text.
func (s *Sweep) String() string {
	h, rows := s.Rows()
	return s.caption() + "\n" + display.TableText(h, rows)
}

// HTML renders the table with the best method of each ratio in bold (when
// there are several) and a note on ratios a method could not meet
// (display.HTMLer).
func (s *Sweep) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<table>\n<caption>%s</caption>\n<thead><tr>", html.EscapeString(s.caption()))
	h, _ := s.Rows()
	for _, c := range h {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(c))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	ratios := s.Ratios()
	differs := false
	for _, m := range s.Methods() {
		fmt.Fprintf(&b, "<tr><td>%s</td>", html.EscapeString(m))
		for _, r := range ratios {
			c := html.EscapeString(s.cell(m, r))
			if len(s.Methods()) > 1 && s.Best(r) == m {
				c = "<b>" + c + "</b>"
			}
			if p, ok := s.Get(m, r); ok && math.Abs(p.Achieved-r) > 0.005 {
				differs = true
			}
			fmt.Fprintf(&b, "<td>%s</td>", c)
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	if differs {
		b.WriteString("<p><small>In brackets: the ratio a method achieved where it could not meet the one asked for (ShortGPT removes whole layers). Bold: the best of each column among the methods that met it.</small></p>")
	}
	return b.String()
}

// Curves returns one curve per method: its achieved ratios and
// perplexities.
func (s *Sweep) Curves() []Curve {
	var out []Curve
	for _, m := range s.Methods() {
		c := Curve{Name: m}
		for _, p := range s.Points {
			if p.Method == m {
				c.X, c.Y = append(c.X, p.Achieved), append(c.Y, p.Perplexity)
			}
		}
		out = append(out, c)
	}
	return out
}

// Plot draws the sweep with PlotPerplexity: perplexity against the
// achieved ratio, one line per method, the dense model dashed.
func (s *Sweep) Plot() *Figure {
	title := "Perplexity after pruning (lower is better)"
	if s.Title != "" {
		title += "\n" + s.Title
	}
	return PlotPerplexity(title, s.Dense, s.Curves())
}
