package chart

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Legend is a figure's legend, shared by its panels: one entry per
// series, drawn on the right of the panels, or below them in as many
// columns as fit. The zero value is an empty legend on the right.
type Legend struct {
	Below bool // below the panels rather than on their right

	entries []legendEntry
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// Add adds an entry whose thumbnail draws thumbs on top of each other
// (a line and its points, say).
func (l *Legend) Add(name string, thumbs ...plot.Thumbnailer) {
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
func (l *Legend) layoutBelow(c draw.Canvas, width vg.Length) (cols [][]legendEntry, colW, h vg.Length) {
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

// ColorBar explains the colours of a heat map or of coloured points: it
// is drawn in the figure's right column, beside the rows of panels First
// to Last (counted from 0 at the top), from Min at the bottom to Max at
// the top, with about five round values labelled.
type ColorBar struct {
	Ramp        Ramp
	Min, Max    float64
	Label       string // beside the bar, turned to read top to bottom
	First, Last int
	Format      string // of the tick labels, for fmt.Sprintf: "%.2f"
}

// width is the room the colour bar takes: the bar, its tick labels and
// its rotated label.
func (b *ColorBar) width() vg.Length {
	sty := textStyle(10, false)
	w := vg.Length(0)
	for _, v := range b.ticks() {
		w = max(w, sty.Width(fmt.Sprintf(b.Format, v)))
	}
	lab := textStyle(11, false)
	return barWidth + 4 + w + 6 + lab.Height(b.Label)
}

// ticks returns the values the colour bar labels: multiples of a round
// step, about five of them.
func (b *ColorBar) ticks() []float64 {
	step := 1.0
	for _, s := range []float64{0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100} {
		step = s
		if (b.Max-b.Min)/s <= 5 {
			break
		}
	}
	var out []float64
	for k := math.Ceil(b.Min/step - 1e-9); k*step <= b.Max+1e-9; k++ {
		out = append(out, k*step+0)
	}
	return out
}

// draw paints the colour bar with its bottom at y0 and top at y1.
func (b *ColorBar) draw(c draw.Canvas, x, y0, y1 vg.Length) {
	if y1-y0 < 20 {
		return
	}
	// The gradient as thin filled strips: vector in an SVG too (an image
	// one pixel wide would be stretched, and blurred, by SVG viewers).
	const steps = 64
	for i := 0; i < steps; i++ {
		lo := y0 + (y1-y0)*vg.Length(i)/steps
		hi := y0 + (y1-y0)*vg.Length(i+1)/steps + 0.3 // overlap: no seams
		c.FillPolygon(b.Ramp.At((float64(i)+0.5)/steps), []vg.Point{{X: x, Y: lo}, {X: x + barWidth, Y: lo}, {X: x + barWidth, Y: min(hi, y1)}, {X: x, Y: min(hi, y1)}})
	}
	rect := vg.Rectangle{Min: vg.Point{X: x, Y: y0}, Max: vg.Point{X: x + barWidth, Y: y1}}
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 80}, Width: 0.5})
	c.Stroke(rect.Path())
	sty := textStyle(10, false)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	var labelX vg.Length
	for _, v := range b.ticks() {
		yk := y0 + (y1-y0)*vg.Length((v-b.Min)/(b.Max-b.Min))
		label := fmt.Sprintf(b.Format, v)
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: 0.5}, x+barWidth, yk, x+barWidth+3, yk)
		c.FillText(sty, vg.Point{X: x + barWidth + 4, Y: yk}, label)
		labelX = max(labelX, x+barWidth+4+sty.Width(label))
	}
	lab := textStyle(11, false)
	lab.Rotation = -math.Pi / 2
	lab.XAlign, lab.YAlign = draw.XCenter, draw.YBottom // turned clockwise: the text's bottom faces the bar
	c.FillText(lab, vg.Point{X: labelX + 6, Y: (y0 + y1) / 2}, b.Label)
}
