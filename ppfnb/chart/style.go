package chart

import (
	"image/color"
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Ramp is a colour map: colours at equal steps from 0 to 1, blended
// linearly between them.
type Ramp []color.RGBA

// At returns the colour at t in [0, 1] (clamped); NaN is light grey.
func (r Ramp) At(t float64) color.RGBA {
	if math.IsNaN(t) {
		return color.RGBA{200, 200, 200, 255}
	}
	t = min(max(t, 0), 1) * float64(len(r)-1)
	i := min(int(t), len(r)-2)
	u := t - float64(i)
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + u*(float64(b)-float64(a)))) }
	a, b := r[i], r[i+1]
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

var (
	// HeatRamp goes from nearly white (nothing) to dark red (everything):
	// ColorBrewer's YlOrRd, for shares where more is worse.
	HeatRamp = Ramp{{255, 255, 204, 255}, {254, 217, 118, 255}, {253, 141, 60, 255}, {227, 26, 28, 255}, {128, 0, 38, 255}}
	// ViridisRamp orders values without suggesting good or bad.
	ViridisRamp = Ramp{{68, 1, 84, 255}, {59, 82, 139, 255}, {33, 145, 140, 255}, {94, 201, 98, 255}, {253, 231, 37, 255}}
)

// Palette is the series colours: the Okabe-Ito palette, told apart by
// colour-blind readers too.
var Palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{213, 94, 0, 255},    // vermillion
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{240, 228, 66, 255},  // yellow
}

// SeriesColors returns a colour of Palette per series name. fixed maps
// lower-case names to their own Palette index, so that a series (a
// pruning method) keeps its colour in every chart; the other series get
// the remaining colours in turn, and no two series of one chart share a
// colour while there are colours left.
func SeriesColors(names []string, fixed map[string]int) []color.RGBA {
	out := make([]color.RGBA, len(names))
	used := map[int]bool{}
	isFixed := make([]bool, len(names))
	for i, n := range names {
		if k, ok := fixed[strings.ToLower(n)]; ok && !used[k] {
			out[i], used[k], isFixed[i] = Palette[k], true, true
		}
	}
	next := 0
	for i := range names {
		if isFixed[i] {
			continue
		}
		for used[next%len(Palette)] && len(used) < len(Palette) {
			next++
		}
		k := next % len(Palette)
		out[i], used[k] = Palette[k], true
		next++
	}
	return out
}

var glyphShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}

// Glyph returns the point shape of series i, so that series differ in
// shape as well as colour.
func Glyph(i int) draw.GlyphDrawer { return glyphShapes[i%len(glyphShapes)] }

// textStyle is the figures' text: Liberation Sans (metric-compatible
// with Arial, which an SVG viewer substitutes) at size points.
func textStyle(size vg.Length, bold bool) text.Style {
	fnt := font.Font{Typeface: "Liberation", Variant: "Sans"}
	if bold {
		fnt.Weight = xfont.WeightBold
	}
	return text.Style{Color: color.Black, Font: font.From(fnt, size), Handler: plot.DefaultTextHandler}
}

// NewPanel returns a plot for a Figure: the figures' fonts, a light grid,
// NiceTicks on both axes, and the given title and axis labels.
func NewPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(12, true)
	p.Title.TextStyle.XAlign, p.Title.TextStyle.YAlign = draw.XCenter, draw.YTop
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		xa, ya := a.Label.TextStyle.XAlign, a.Label.TextStyle.YAlign
		a.Label.TextStyle = textStyle(11, false)
		a.Label.TextStyle.XAlign, a.Label.TextStyle.YAlign = xa, ya
		xa, ya = a.Tick.Label.XAlign, a.Tick.Label.YAlign
		a.Tick.Label = textStyle(10, false)
		a.Tick.Label.XAlign, a.Tick.Label.YAlign = xa, ya
		a.Tick.Length = 4
		a.Tick.Marker = NiceTicks{}
		a.Padding = 3
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Add(gridLines())
	return p
}

// gridLines is a light grid behind the data.
func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	g.Vertical.Width, g.Horizontal.Width = 0.5, 0.5
	return g
}
