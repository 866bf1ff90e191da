package ppfnb

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The marks the charts draw that gonum/plot has no plotter for: bars
// placed in data units, heat-map cells with their values written in, and
// a few constructors in the figures' style.

// bars draws one bar per integer x from 0: the bar of x sits at
// x+offset, width wide, both in data units (gonum's BarChart takes a
// width in points, which breaks when the figure is resized).
type bars struct {
	values        []float64
	offset, width float64
	color         color.Color
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.values {
		x := float64(i) + b.offset
		x0, x1 := trX(x-b.width/2), trX(x+b.width/2)
		y0, y1 := trY(0), trY(v)
		if y1-y0 < 1.5 {
			y1 = y0 + 1.5 // a zero still shows, as a thin line on the axis
		}
		c.FillPolygon(b.color, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = 0
	for _, v := range b.values {
		ymax = max(ymax, v)
	}
	return -0.5, float64(len(b.values)) - 0.5, 0, ymax
}

// Thumbnail implements plot.Thumbnailer: a filled box in the legend.
func (b *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pad := (r.Max.Y - r.Min.Y) / 6
	c.FillPolygon(b.color, []vg.Point{{X: r.Min.X, Y: r.Min.Y + pad}, {X: r.Max.X, Y: r.Min.Y + pad}, {X: r.Max.X, Y: r.Max.Y - pad}, {X: r.Min.X, Y: r.Max.Y - pad}})
}

// cells is a heat map: z[row][col] in [0, 1] drawn as the cell centred
// on (col, row), coloured by ramp. When the cells are large enough each
// shows its value as a percentage.
type cells struct {
	z    [][]float64
	ramp ramp
}

// Plot implements plot.Plotter.
func (g *cells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := textStyle(8, false)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for r, row := range g.z {
		for col, v := range row {
			x0, x1 := trX(float64(col)-0.5), trX(float64(col)+0.5)
			y0, y1 := trY(float64(r)-0.5), trY(float64(r)+0.5)
			pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
			fill := g.ramp.at(v)
			c.FillPolygon(fill, pts)
			c.StrokeLines(draw.LineStyle{Color: color.White, Width: 0.5}, append(pts, pts[0]))
			label := fmt.Sprintf("%.0f", 100*v)
			if x1-x0 < sty.Width("100")+3 || y1-y0 < sty.Height(label)+2 {
				continue
			}
			sty.Color = color.Black
			if luminance(fill) < 0.45 {
				sty.Color = color.White
			}
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, label)
		}
	}
}

// DataRange implements plot.DataRanger.
func (g *cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	for _, row := range g.z {
		cols = max(cols, len(row))
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(g.z)) - 0.5
}

// luminance is the relative luminance of c, 0 (black) to 1 (white).
func luminance(c color.RGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}

// xys turns two equally long slices into points.
func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, min(len(x), len(y)))
	for i := range pts {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}

// newLine is a solid line in colour c.
func newLine(pts plotter.XYs, c color.Color, width vg.Length) *plotter.Line {
	l, err := plotter.NewLine(pts)
	if err != nil {
		panic(err) // NaN or infinite points: the callers filter them
	}
	l.Color, l.Width = c, width
	return l
}

// newDashed is a dashed line.
func newDashed(pts plotter.XYs, c color.Color, width vg.Length) *plotter.Line {
	l := newLine(pts, c, width)
	l.Dashes = []vg.Length{5, 3}
	return l
}

// newPoints is a scatter of glyphs.
func newPoints(pts plotter.XYs, c color.Color, shape draw.GlyphDrawer, radius vg.Length) *plotter.Scatter {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		panic(err)
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: radius, Shape: shape}
	return s
}

// finite keeps the points whose coordinates are finite (and, for a log
// axis, positive).
func finite(pts plotter.XYs, positiveY bool) plotter.XYs {
	out := pts[:0:0]
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || (positiveY && p.Y <= 0) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// intTicks marks integers from lo to hi, every step, labelled; with
// names, tick i is labelled names[i].
type intTicks struct {
	step  int
	names []string
}

// Ticks implements plot.Ticker.
func (t intTicks) Ticks(lo, hi float64) []plot.Tick {
	step := max(t.step, 1)
	var ticks []plot.Tick
	for v := int(math.Ceil(lo)); float64(v) <= hi; v++ {
		if v%step != 0 {
			continue
		}
		label := fmt.Sprint(v)
		if v >= 0 && v < len(t.names) {
			label = t.names[v]
		}
		ticks = append(ticks, plot.Tick{Value: float64(v), Label: label})
	}
	return ticks
}

// tickStep is the step between integer labels so that about at most
// want labels fit n values.
func tickStep(n, want int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000} {
		if n/s <= want {
			return s
		}
	}
	return n / want
}

// stepTicks marks a linear axis every step, labelled with format.
type stepTicks struct {
	step   float64
	format string
}

// Ticks implements plot.Ticker.
func (t stepTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Ceil(lo/t.step - 1e-9); k*t.step <= hi+1e-9; k++ {
		v := k * t.step
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf(t.format, v+0)})
	}
	return ticks
}

// niceTicks labels a linear axis at multiples of a round step (1, 2, 2.5
// or 5 times a power of ten) chosen for about five labels, with
// unlabelled ticks halfway.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	e := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	step := e
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10} {
		if (hi-lo)/(m*e) <= 6 {
			step = m * e
			break
		}
	}
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step/math.Pow(10, -float64(prec))-math.Round(step/math.Pow(10, -float64(prec)))) > 1e-9 {
		prec++ // 2.5, 0.25
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k*step/2 <= hi+1e-9; k++ {
		v := k*step/2 + 0
		t := plot.Tick{Value: v}
		if int(k)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
