package ppfnb

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The charts of this package are gonum/plot plots laid out in a Figure:
// one or more panels in a grid whose data areas line up, an optional
// title over them, and a column on the right for a legend shared by the
// panels and a colour bar. Legends never sit on the data.

// DPI is the resolution of Figure.PNG: pixels per inch. Figure sizes are
// in pixels at this resolution; the SVG form has the same size in inches.
const DPI = 96

// Figure is a chart ready to show: make it the last expression of a
// notebook cell (it has a PNG method, so the kernel shows it as an image;
// AsSVG shows it as SVG), or write it to a file with Save (.png or .svg). The Plot* functions make
// them; change a field (a panel's title, an axis range) before showing
// it to adjust one.
type Figure struct {
	Title         string       // over all panels; "" for none
	Width, Height int          // in pixels (see DPI)
	Cols          int          // panels per row; 0 means all in one row
	Panels        []*plot.Plot // left to right, then top to bottom

	legend *legend // shared by the panels; nil for none
	bar    *colorBar
}

// legend is a figure's legend: entries drawn on the right of the
// panels, or below them in as many columns as fit.
type legend struct {
	entries []legendEntry
	below   bool
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// newLegend returns an empty legend.
func newLegend() *legend { return &legend{} }

// add adds an entry whose thumbnail draws thumbs on top of each other.
func (l *legend) add(name string, thumbs ...plot.Thumbnailer) {
	l.entries = append(l.entries, legendEntry{name: name, thumbs: thumbs})
}

// column returns a gonum legend of entries in the figures' style.
func column(entries []legendEntry) *plot.Legend {
	pl := plot.NewLegend()
	pl.TextStyle = textStyle(11, false)
	pl.Padding = 3
	pl.ThumbnailWidth = 22
	pl.Top, pl.Left = true, true
	for _, e := range entries {
		pl.Add(e.name, e.thumbs...)
	}
	return &pl
}

// size returns the width and height the legend takes in one column,
// with a tenth more width for an SVG viewer's wider fallback font.
func size(pl *plot.Legend, c draw.Canvas) (w, h vg.Length) {
	r := pl.Rectangle(c)
	return 1.1 * (r.Max.X - r.Min.X), r.Max.Y - r.Min.Y
}

// layoutBelow splits the entries into columns that fit width and returns
// them with the column width and the height they take.
func (l *legend) layoutBelow(c draw.Canvas, width vg.Length) (cols [][]legendEntry, colW, h vg.Length) {
	for _, e := range l.entries {
		w, _ := size(column([]legendEntry{e}), c)
		colW = max(colW, w+figGap)
	}
	n := max(1, min(len(l.entries), int(width/max(colW, 1))))
	rows := (len(l.entries) + n - 1) / n
	for k := 0; k < len(l.entries); k += rows {
		cols = append(cols, l.entries[k:min(k+rows, len(l.entries))])
	}
	_, h = size(column(cols[0]), c)
	return cols, colW, h
}

// colorBar explains the colours of a heat map or of coloured points: it
// is drawn in the right column beside the panel rows from first to last.
type colorBar struct {
	ramp        ramp
	min, max    float64
	label       string
	first, last int // rows of panels it stands beside
	format      string
}

// PNG returns the figure as a PNG file's bytes (display.PNGer). It
// returns nil when the figure cannot be drawn; Save reports why.
func (f *Figure) PNG() []byte {
	b, err := f.encode("png")
	if err != nil {
		return nil
	}
	return b
}

// AsSVG returns the figure as a value that shows itself as SVG in a
// notebook (make it a cell's last expression), for output that stays
// sharp when zoomed. A Figure itself shows as PNG: frontends prefer SVG
// when a value offers both, and an SVG's text is drawn with the viewer's
// fonts, so where Liberation Sans, Arial and Helvetica are all missing
// its labels come out wider than laid out.
func (f *Figure) AsSVG() *SVGFigure { return &SVGFigure{Figure: f} }

// SVGFigure is a Figure shown as SVG (see Figure.AsSVG).
type SVGFigure struct{ Figure *Figure }

// SVG returns the figure as an SVG document (display.SVGer), or "" when
// it cannot be drawn; Figure.Save reports why.
func (s *SVGFigure) SVG() string {
	b, err := s.Figure.encode("svg")
	if err != nil {
		return ""
	}
	return string(b)
}

// String describes the figure, as Figure.String does.
func (s *SVGFigure) String() string { return s.Figure.String() }

// String describes the figure in one line, for outputs without images.
func (f *Figure) String() string {
	if f == nil {
		return "no figure (the call that made it returned an error: print it)"
	}
	title := strings.ReplaceAll(f.Title, "\n", " ")
	if title == "" && len(f.Panels) > 0 {
		title = strings.ReplaceAll(f.Panels[0].Title.Text, "\n", " ")
	}
	return fmt.Sprintf("figure %q: %d panel(s), %dx%d pixels", title, len(f.Panels), f.Width, f.Height)
}

// Save writes the figure to a file; its extension picks the format:
// .png or .svg.
func (f *Figure) Save(path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	b, err := f.encode(format)
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}

// encode draws the figure in a format ("png" or "svg"). A panic inside
// gonum/plot (say, a log axis given zero) becomes an error.
func (f *Figure) encode(format string) (out []byte, err error) {
	if f == nil || len(f.Panels) == 0 {
		return nil, fmt.Errorf("the figure has no panels")
	}
	if f.Width < 50 || f.Height < 50 {
		return nil, fmt.Errorf("figure size %dx%d: give Width and Height of at least 50 pixels", f.Width, f.Height)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("drawing the figure: %v", r)
		}
	}()
	w, h := pixels(f.Width), pixels(f.Height)
	var buf bytes.Buffer
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
		f.draw(draw.New(c))
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, err
		}
	case "svg":
		c := vgsvg.New(w, h)
		f.draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, err
		}
		// Fonts whose metrics match Liberation Sans, for viewers without it.
		b := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
		return b, nil
	default:
		return nil, fmt.Errorf("format %q: use .png or .svg", format)
	}
	return buf.Bytes(), nil
}

// pixels converts pixels at DPI to vg's points.
func pixels(px int) vg.Length { return vg.Length(px) * vg.Inch / DPI }

// Layout constants, in points.
const (
	figPad   = vg.Length(8)
	figGap   = vg.Length(14) // between panels
	barWidth = vg.Length(12)
)

// draw lays the figure out on c: background, title, the right column
// (legend, colour bar), then the panels aligned in a grid.
func (f *Figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	area := draw.Crop(c, figPad, -figPad, figPad, -figPad)

	if f.Title != "" {
		sty := textStyle(13, true)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		area.FillText(sty, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, f.Title)
		area.Max.Y -= sty.Height(f.Title) + 1.5*figPad
	}

	// A legend below the panels: centred, in as many columns as fit.
	if l := f.legend; l != nil && l.below && len(l.entries) > 0 {
		cols, colW, h := l.layoutBelow(area, area.Max.X-area.Min.X)
		x := (area.Min.X+area.Max.X)/2 - colW*vg.Length(len(cols))/2 + figGap/2
		for k, entries := range cols {
			lc := area
			lc.Min.X, lc.Max.X, lc.Max.Y = x+colW*vg.Length(k), x+colW*vg.Length(k+1), area.Min.Y+h
			column(entries).Draw(lc)
		}
		area.Min.Y += h + figGap
	}

	// The right column: as wide as the legend or the colour bar needs.
	var right vg.Length
	var side *plot.Legend
	if l := f.legend; l != nil && !l.below && len(l.entries) > 0 {
		side = column(l.entries)
		right, _ = size(side, area)
	}
	if f.bar != nil {
		right = max(right, f.bar.width())
	}
	if right > 0 {
		area.Max.X -= right + figGap
	}

	cols := f.Cols
	if cols <= 0 || cols > len(f.Panels) {
		cols = len(f.Panels)
	}
	rows := (len(f.Panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, p := range f.Panels {
		grid[i/cols][i%cols] = p
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: figGap, PadY: figGap}
	canvases := plot.Align(grid, tiles, area)
	var top, bottoms []vg.Length // data area extents of each row
	for j, row := range grid {
		lo, hi := vg.Length(math.Inf(1)), vg.Length(math.Inf(-1))
		for i, p := range row {
			if p == nil {
				continue
			}
			p.Draw(canvases[j][i])
			dc := p.DataCanvas(canvases[j][i])
			lo, hi = min(lo, dc.Min.Y), max(hi, dc.Max.Y)
		}
		top, bottoms = append(top, hi), append(bottoms, lo)
	}

	x0 := area.Max.X + figGap
	y := top[0]
	if side != nil {
		lc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x0, Y: area.Min.Y}, Max: vg.Point{X: x0 + right, Y: y}}}
		side.Draw(lc)
		_, h := size(side, lc)
		y -= h + 2*figGap
	}
	if b := f.bar; b != nil {
		first, last := min(max(b.first, 0), rows-1), min(max(b.last, 0), rows-1)
		b.draw(c, x0, bottoms[last], min(y, top[first]))
	}
}

// width is the room the colour bar takes: the bar, its tick labels and
// its rotated label.
func (b *colorBar) width() vg.Length {
	sty := textStyle(10, false)
	w := vg.Length(0)
	for _, v := range b.ticks() {
		w = max(w, sty.Width(fmt.Sprintf(b.format, v)))
	}
	lab := textStyle(11, false)
	return barWidth + 4 + w + 6 + lab.Height(b.label)
}

// ticks returns the values the colour bar labels: multiples of a round
// step, about five of them.
func (b *colorBar) ticks() []float64 {
	step := 1.0
	for _, s := range []float64{0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100} {
		step = s
		if (b.max-b.min)/s <= 5 {
			break
		}
	}
	var out []float64
	for k := math.Ceil(b.min/step - 1e-9); k*step <= b.max+1e-9; k++ {
		out = append(out, k*step+0)
	}
	return out
}

// draw paints the colour bar with its bottom at y0 and top at y1.
func (b *colorBar) draw(c draw.Canvas, x, y0, y1 vg.Length) {
	if y1-y0 < 20 {
		return
	}
	// The gradient as thin filled strips: vector in an SVG too (an image
	// one pixel wide would be stretched, and blurred, by SVG viewers).
	const steps = 64
	for i := 0; i < steps; i++ {
		lo := y0 + (y1-y0)*vg.Length(i)/steps
		hi := y0 + (y1-y0)*vg.Length(i+1)/steps + 0.3 // overlap: no seams
		c.FillPolygon(b.ramp.at((float64(i)+0.5)/steps), []vg.Point{{X: x, Y: lo}, {X: x + barWidth, Y: lo}, {X: x + barWidth, Y: min(hi, y1)}, {X: x, Y: min(hi, y1)}})
	}
	rect := vg.Rectangle{Min: vg.Point{X: x, Y: y0}, Max: vg.Point{X: x + barWidth, Y: y1}}
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 80}, Width: 0.5})
	c.Stroke(rect.Path())
	sty := textStyle(10, false)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	var labelX vg.Length
	for _, v := range b.ticks() {
		yk := y0 + (y1-y0)*vg.Length((v-b.min)/(b.max-b.min))
		label := fmt.Sprintf(b.format, v)
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: 0.5}, x+barWidth, yk, x+barWidth+3, yk)
		c.FillText(sty, vg.Point{X: x + barWidth + 4, Y: yk}, label)
		labelX = max(labelX, x+barWidth+4+sty.Width(label))
	}
	lab := textStyle(11, false)
	lab.Rotation = -math.Pi / 2
	lab.XAlign, lab.YAlign = draw.XCenter, draw.YBottom // turned clockwise: the text's bottom faces the bar
	c.FillText(lab, vg.Point{X: labelX + 6, Y: (y0 + y1) / 2}, b.label)
}

// ramp is a colour map: colours at equal steps from 0 to 1, blended
// linearly between them.
type ramp []color.RGBA

// at returns the colour at t in [0, 1] (clamped).
func (r ramp) at(t float64) color.RGBA {
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
	// heatRamp goes from nearly white (nothing removed) to dark red
	// (everything removed): ColorBrewer's YlOrRd.
	heatRamp = ramp{{255, 255, 204, 255}, {254, 217, 118, 255}, {253, 141, 60, 255}, {227, 26, 28, 255}, {128, 0, 38, 255}}
	// viridisRamp orders values without suggesting good or bad.
	viridisRamp = ramp{{68, 1, 84, 255}, {59, 82, 139, 255}, {33, 145, 140, 255}, {94, 201, 98, 255}, {253, 231, 37, 255}}
)

// Series colours: the Okabe-Ito palette, told apart by colour-blind
// readers too. A method keeps its colour in every chart.
var (
	seriesColors = []color.RGBA{
		{0, 114, 178, 255},   // blue
		{230, 159, 0, 255},   // orange
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{213, 94, 0, 255},    // vermillion
		{86, 180, 233, 255},  // sky blue
		{0, 0, 0, 255},       // black
		{240, 228, 66, 255},  // yellow
	}
	methodColors = map[string]int{
		"uniform": 6, "wanda-sp": 0, "owl": 1, "flap": 2, "shortgpt": 3, "random": 5,
		MethodPPFUniform: 5, MethodPPFDynamic: 4, MethodPPFStatic: 3, MethodPPF: 3, MethodPPFFocused: 4, MethodEvoPress: 0, MethodRandomSearch: 1, "ppf-agent": 4, "ppf-search": 3, "agent": 4, "search": 3,
	}
	glyphShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}
)

// seriesColorsFor returns a colour per series name: known methods get
// their fixed colours, the others the palette's remaining colours in
// turn, so that no two series of one chart share a colour while there
// are colours left.
func seriesColorsFor(names []string) []color.RGBA {
	out := make([]color.RGBA, len(names))
	used := map[int]bool{}
	fixed := make([]bool, len(names))
	for i, n := range names {
		if k, ok := methodColors[strings.ToLower(n)]; ok && !used[k] {
			out[i], used[k], fixed[i] = seriesColors[k], true, true
		}
	}
	next := 0
	for i := range names {
		if fixed[i] {
			continue
		}
		for used[next%len(seriesColors)] && len(used) < len(seriesColors) {
			next++
		}
		k := next % len(seriesColors)
		out[i], used[k] = seriesColors[k], true
		next++
	}
	return out
}

// glyphFor returns the glyph of series i.
func glyphFor(i int) draw.GlyphDrawer { return glyphShapes[i%len(glyphShapes)] }

// textStyle is the figures' text: Liberation Sans (metric-compatible
// with Arial, which an SVG viewer substitutes) at size points.
func textStyle(size vg.Length, bold bool) text.Style {
	fnt := font.Font{Typeface: "Liberation", Variant: "Sans"}
	if bold {
		fnt.Weight = xfont.WeightBold
	}
	return text.Style{Color: color.Black, Font: font.From(fnt, size), Handler: plot.DefaultTextHandler}
}

// newPanel returns a plot with the figures' fonts, a light grid and the
// given title and axis labels.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
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
		a.Tick.Marker = niceTicks{}
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

// Log axes. gonum/plot's LogScale misplaces a centred axis label's
// glyph box (it takes the label's position at the mean of the data range,
// which a log scale puts near the top) and pads the plot for it; so the
// charts plot log10 of their values on a linear axis and label the ticks
// with the values themselves.

// lg is the coordinate of a value on a log axis.
func lg(v float64) float64 { return math.Log10(v) }

// logTicks marks a log10 axis at 1, 2 and 5 times the powers of ten (at
// more steps when the range is narrow), labelled with the values, and
// at the other integer multiples unlabelled.
type logTicks struct{}

// Ticks implements plot.Ticker; lo and hi are log10 of the range.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	mantissas := []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}
	labelled := map[float64]bool{1: true, 2: true, 5: true}
	if hi-lo < 1.3 {
		labelled[3] = true
	}
	if hi-lo < 0.6 {
		labelled = map[float64]bool{1: true, 1.5: true, 2: true, 2.5: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true}
	}
	var ticks []plot.Tick
	for e := math.Floor(lo) - 1; e <= math.Ceil(hi); e++ {
		for _, m := range mantissas {
			v := math.Pow(10, e) * m
			if lg(v) < lo-1e-9 || lg(v) > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: lg(v)}
			if labelled[m] {
				t.Label = trimFloat(v)
			} else if m != math.Trunc(m) {
				continue // half steps only where labelled
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// narrowLogTicks marks a log10 axis spanning less than a factor of 3
// with niceTicks' evenly spaced values, which a 1-2-5 log axis would
// leave with one label or none.
type narrowLogTicks struct{}

// Ticks implements plot.Ticker; lo and hi are log10 of the range.
func (narrowLogTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi-lo > math.Log10(3) {
		return logTicks{}.Ticks(lo, hi)
	}
	ticks := niceTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ticks {
		ticks[i].Value = lg(ticks[i].Value)
	}
	return ticks
}

// trimFloat prints a tick value without needless digits.
func trimFloat(v float64) string {
	if v >= 1 && math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("%.0f", v)
	}
	s := fmt.Sprintf("%.3f", v)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// percentTicks marks a 0..1 (or wider) axis in percent.
type percentTicks struct{ step float64 }

// Ticks implements plot.Ticker.
func (t percentTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := math.Ceil(lo/t.step-1e-9) * t.step; v <= hi+1e-9; v += t.step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f%%", math.Abs(math.Round(100*v)))})
	}
	return ticks
}

// logRange makes a a log axis (see lg) from lo to hi (values, not their
// logs), widened to the nearest 1, 2 or 5 times a power of ten, so
// that both ends carry a label.
func logRange(a *plot.Axis, lo, hi float64) {
	if !(lo > 0) || math.IsInf(lo, 0) {
		lo = 1
	}
	if !(hi > lo) || math.IsInf(hi, 0) {
		hi = lo * 10
	}
	a.Tick.Marker = logTicks{}
	a.Min, a.Max = lg(snap(lo/1.03, false)), lg(snap(hi*1.03, true))
}

// snap returns the nearest value of 1, 2 or 5 times a power of ten
// below v (above it when up).
func snap(v float64, up bool) float64 {
	e := math.Pow(10, math.Floor(lg(v)))
	steps := []float64{1, 2, 5, 10}
	if up {
		for _, m := range steps {
			if m*e >= v*(1-1e-9) {
				return m * e
			}
		}
	}
	for k := len(steps) - 1; k >= 0; k-- {
		if steps[k]*e <= v*(1+1e-9) {
			return steps[k] * e
		}
	}
	return e
}
