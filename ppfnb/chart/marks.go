package chart

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The marks the charts draw that gonum/plot has no plotter for: bars
// placed in data units, heat-map cells with their values written in, and
// a few constructors in the figures' style.

// Bars draws one bar per integer x from 0, of height Values[x]: the bar
// sits at x+Offset, Width wide, both in data units (gonum's BarChart
// takes a width in points, which breaks when the figure is resized), so
// that several Bars side by side make grouped bars. Its legend thumbnail
// is a filled box: a Bars with only a Color makes a legend entry.
type Bars struct {
	Values        []float64
	Offset, Width float64
	Color         color.Color
}

// Plot implements plot.Plotter.
func (b *Bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.Values {
		x := float64(i) + b.Offset
		x0, x1 := trX(x-b.Width/2), trX(x+b.Width/2)
		y0, y1 := trY(0), trY(v)
		if y1-y0 < 1.5 {
			y1 = y0 + 1.5 // a zero still shows, as a thin line on the axis
		}
		c.FillPolygon(b.Color, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
}

// DataRange implements plot.DataRanger.
func (b *Bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = 0
	for _, v := range b.Values {
		ymax = max(ymax, v)
	}
	return -0.5, float64(len(b.Values)) - 0.5, 0, ymax
}

// Thumbnail implements plot.Thumbnailer: a filled box in the legend.
func (b *Bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pad := (r.Max.Y - r.Min.Y) / 6
	c.FillPolygon(b.Color, []vg.Point{{X: r.Min.X, Y: r.Min.Y + pad}, {X: r.Max.X, Y: r.Min.Y + pad}, {X: r.Max.X, Y: r.Max.Y - pad}, {X: r.Min.X, Y: r.Max.Y - pad}})
}

// Cells is a heat map: Z[row][col] in [0, 1] drawn as the cell centred
// on (col, row), coloured by Ramp. When the cells are large enough each
// shows its value as a percentage, in black or white, whichever reads on
// its colour.
type Cells struct {
	Z    [][]float64
	Ramp Ramp
}

// Plot implements plot.Plotter.
func (g *Cells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := textStyle(8, false)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for r, row := range g.Z {
		for col, v := range row {
			x0, x1 := trX(float64(col)-0.5), trX(float64(col)+0.5)
			y0, y1 := trY(float64(r)-0.5), trY(float64(r)+0.5)
			pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
			fill := g.Ramp.At(v)
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
func (g *Cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	for _, row := range g.Z {
		cols = max(cols, len(row))
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(g.Z)) - 0.5
}

// luminance is the relative luminance of c, 0 (black) to 1 (white).
func luminance(c color.RGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}

// XYs pairs x and y into points, as many as the shorter has.
func XYs(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, min(len(x), len(y)))
	for i := range pts {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}

// NewLine is a solid line through pts in colour c, width points wide.
// It panics on a NaN or infinite point: keep only Finite ones.
func NewLine(pts plotter.XYs, c color.Color, width vg.Length) *plotter.Line {
	l, err := plotter.NewLine(pts)
	if err != nil {
		panic(err)
	}
	l.Color, l.Width = c, width
	return l
}

// NewDashed is NewLine dashed: for references (a dense model, a
// baseline) beside the measured series.
func NewDashed(pts plotter.XYs, c color.Color, width vg.Length) *plotter.Line {
	l := NewLine(pts, c, width)
	l.Dashes = []vg.Length{5, 3}
	return l
}

// NewPoints is a scatter of glyphs of shape (see Glyph) and radius in
// points. Like NewLine it panics on points that are not Finite.
func NewPoints(pts plotter.XYs, c color.Color, shape draw.GlyphDrawer, radius vg.Length) *plotter.Scatter {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		panic(err)
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: radius, Shape: shape}
	return s
}

// Finite returns the points whose coordinates are finite (and, with
// positiveY, whose Y is above zero, as a log axis needs), in a new slice.
func Finite(pts plotter.XYs, positiveY bool) plotter.XYs {
	out := pts[:0:0]
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || (positiveY && p.Y <= 0) {
			continue
		}
		out = append(out, p)
	}
	return out
}
