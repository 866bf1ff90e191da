package chart

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// labels returns the labelled ticks of a marker on lo..hi.
func labels(m plot.Ticker, lo, hi float64) []string {
	var out []string
	for _, t := range m.Ticks(lo, hi) {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// The labels a reader sees on each kind of axis.
func TestTicks(t *testing.T) {
	for _, c := range []struct {
		name   string
		m      plot.Ticker
		lo, hi float64
		want   []string
	}{
		{"log, decades", LogTicks{}, Log(5), Log(200), []string{"5", "10", "20", "50", "100", "200"}},
		{"log, one decade: 3 too", LogTicks{}, Log(20), Log(40), []string{"20", "25", "30", "40"}},
		{"log, narrow: 1-2-5 would leave one label", LogTicks{}, Log(8), Log(12), []string{"8", "10"}},
		{"narrow log: even steps", NarrowLogTicks{}, Log(8), Log(12), []string{"8", "9", "10", "11", "12"}},
		{"narrow log, wide range: as LogTicks", NarrowLogTicks{}, Log(1), Log(1000), labels(LogTicks{}, Log(1), Log(1000))},
		{"nice, 0..1", NiceTicks{}, 0, 1, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{"nice, 2.5 steps", NiceTicks{}, -3, 17, []string{"0", "5", "10", "15"}},
		{"nice, empty range", NiceTicks{}, 1, 1, nil},
		{"percent", PercentTicks{Step: 0.25}, 0, 1, []string{"0%", "25%", "50%", "75%", "100%"}},
		{"step", StepTicks{Step: 0.1, Format: "%.1f"}, -0.05, 0.32, []string{"0.0", "0.1", "0.2", "0.3"}},
		{"int, named", IntTicks{Step: 2, Names: []string{"a", "b", "c"}}, -0.5, 4.5, []string{"a", "c", "4"}},
	} {
		if got := labels(c.m, c.lo, c.hi); !slices.Equal(got, c.want) {
			t.Errorf("%s: labels %q, want %q", c.name, got, c.want)
		}
	}
	// Log axes carry unlabelled ticks at the integer multiples between.
	if n := len(LogTicks{}.Ticks(Log(5), Log(200))); n != 16 {
		t.Errorf("log ticks from 5 to 200: %d, want 16", n)
	}
}

func TestSnapAndLogRange(t *testing.T) {
	for _, c := range []struct {
		v    float64
		up   bool
		want float64
	}{{7, false, 5}, {7, true, 10}, {0.03, true, 0.05}, {10, true, 10}, {10, false, 10}, {1.9, false, 1}} {
		if got := Snap(c.v, c.up); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Snap(%v, %v) = %v, want %v", c.v, c.up, got, c.want)
		}
	}
	var a plot.Axis
	LogRange(&a, 5.77, 1469)
	if math.Abs(a.Min-Log(5)) > 1e-12 || math.Abs(a.Max-Log(2000)) > 1e-12 {
		t.Errorf("LogRange(5.77, 1469): %v to %v, want log of 5 to 2000", math.Pow(10, a.Min), math.Pow(10, a.Max))
	}
	LogRange(&a, 0, math.NaN()) // no data: 1 to 10, widened, not a panic
	if math.Abs(a.Min-Log(0.5)) > 1e-12 || math.Abs(a.Max-Log(20)) > 1e-12 {
		t.Errorf("LogRange of nothing: %v to %v", a.Min, a.Max)
	}
	for _, c := range [][3]int{{5, 16, 1}, {40, 16, 5}, {120, 10, 20}} {
		if got := TickStep(c[0], c[1]); got != c[2] {
			t.Errorf("TickStep(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
	for v, want := range map[float64]string{2: "2", 0.25: "0.25", 0.1000001: "0.1", 1.5: "1.5"} {
		if got := TrimFloat(v); got != want {
			t.Errorf("TrimFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

// A fixed colour is kept, and no two series share one while there are
// colours left, even when two names ask for the same fixed colour.
func TestSeriesColors(t *testing.T) {
	got := SeriesColors([]string{"x", "FLAP", "y", "flap"}, map[string]int{"flap": 2})
	if got[1] != Palette[2] {
		t.Errorf("FLAP got %v, want its fixed %v", got[1], Palette[2])
	}
	for i := range got {
		for j := range i {
			if got[i] == got[j] {
				t.Errorf("series %d and %d share %v", j, i, got[i])
			}
		}
	}
	if c := HeatRamp.At(0); c != HeatRamp[0] {
		t.Errorf("At(0) = %v", c)
	}
	if c := HeatRamp.At(2); c != HeatRamp[len(HeatRamp)-1] {
		t.Errorf("At(2) = %v, want the last colour", c)
	}
	if c := HeatRamp.At(0.5); c != HeatRamp[2] {
		t.Errorf("At(0.5) = %v, want the middle colour", c)
	}
}

// A legend below the panels takes as many columns as fit the width.
func TestLegendBelow(t *testing.T) {
	c := draw.New(vgimg.New(10*vg.Inch, 5*vg.Inch))
	var l Legend
	for _, name := range []string{"uniform", "wanda-sp", "owl", "flap", "shortgpt"} {
		l.Add(name, NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, Palette[0], 1))
	}
	wide, colW, h := l.layoutBelow(c, 10*vg.Inch)
	if len(wide) != 5 || colW <= 0 || h <= 0 {
		t.Fatalf("wide: %d columns, width %v, height %v; want 5 in one row", len(wide), colW, h)
	}
	narrow, _, h2 := l.layoutBelow(c, 2.5*colW)
	if len(narrow) != 2 || len(narrow[0]) != 3 || h2 <= h {
		t.Errorf("narrow: %d columns (first of %d), height %v; want 2 of 3 and 2, taller than %v", len(narrow), len(narrow[0]), h2, h)
	}
}

// testFigure has two panels, a legend (on the right or below) and a
// colour bar.
func testFigure(below bool) *Figure {
	var panels []*plot.Plot
	leg := &Legend{Below: below}
	for i, title := range []string{"lines", "cells"} {
		p := NewPanel(title, "x", "y")
		if i == 0 {
			pts := Finite(XYs([]float64{1, 2, 3, math.NaN()}, []float64{10, 0, 30, 40}), true)
			l, m := NewLine(pts, Palette[0], 1.5), NewPoints(pts, Palette[0], Glyph(0), 3)
			p.Add(l, m, NewDashed(pts, Palette[1], 1))
			leg.Add("a series", l, m)
		} else {
			p.Add(&Cells{Z: [][]float64{{0, 0.5}, {1, math.NaN()}}, Ramp: HeatRamp}, &Bars{Values: []float64{0.2, 0.4}, Width: 0.3, Color: Palette[2]})
			leg.Add("bars", &Bars{Color: Palette[2]})
		}
		panels = append(panels, p)
	}
	return &Figure{Title: "test", Width: 700, Height: 400, Cols: 1, Panels: panels, Legend: leg,
		Bar: &ColorBar{Ramp: HeatRamp, Min: 0, Max: 100, Label: "share", Format: "%.0f%%", First: 1, Last: 1}}
}

func TestFigureDraws(t *testing.T) {
	for _, below := range []bool{false, true} {
		f := testFigure(below)
		img, err := png.Decode(bytes.NewReader(f.PNG()))
		if err != nil {
			t.Fatal(err)
		}
		if sz := img.Bounds().Size(); sz.X != f.Width || sz.Y != f.Height {
			t.Errorf("PNG is %v, want %dx%d", sz, f.Width, f.Height)
		}
		svg := f.AsSVG().SVG()
		if !strings.Contains(svg, "Arial") || !strings.Contains(svg, "share") {
			t.Error("the SVG lacks its fallback fonts or the colour bar's label")
		}
		for dec := xml.NewDecoder(strings.NewReader(svg)); ; {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("the SVG is not XML: %v", err)
			}
		}
	}
}

// A figure that cannot be drawn says why instead of panicking in a
// notebook cell.
func TestFigureErrors(t *testing.T) {
	var nilFig *Figure
	if nilFig.PNG() != nil || nilFig.AsSVG().SVG() != "" || !strings.Contains(nilFig.String(), "error") {
		t.Error("a nil figure should draw nothing and say so")
	}
	dir := t.TempDir()
	tiny := testFigure(false)
	tiny.Width = 10
	badLog := testFigure(false)
	badLog.Panels[0].Y.Scale = plot.LogScale{}
	badLog.Panels[0].Y.Min = 0
	for _, c := range []struct {
		f          *Figure
		file, want string
	}{
		{&Figure{Width: 100, Height: 100}, "x.png", "no panels"},
		{tiny, "x.png", "at least 50"},
		{testFigure(false), "x.gif", ".png or .svg"},
		{badLog, "x.svg", "drawing the figure"},
	} {
		if err := c.f.Save(filepath.Join(dir, c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.file, err, c.want)
		}
	}
	if err := testFigure(true).Save(filepath.Join(dir, "ok.svg")); err != nil {
		t.Error(err)
	}
}
