package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of Figure.PNG: pixels per inch. Figure sizes are
// in pixels at this resolution; the SVG form has the same size in inches.
const DPI = 96

// Figure is a chart ready to show: make it the last expression of a
// notebook cell (it has a PNG method, so the kernel shows it as an image;
// AsSVG shows it as SVG), or write it to a file with Save (.png or .svg).
// Change a field (a panel's title, an axis range) before showing it to
// adjust one.
type Figure struct {
	Title         string       // over all panels; "" for none
	Width, Height int          // in pixels (see DPI)
	Cols          int          // panels per row; 0 means all in one row
	Panels        []*plot.Plot // left to right, then top to bottom

	Legend *Legend   // shared by the panels; nil for none
	Bar    *ColorBar // in the right column, below the legend; nil for none
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
	if l := f.Legend; l != nil && l.Below && len(l.entries) > 0 {
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
	if l := f.Legend; l != nil && !l.Below && len(l.entries) > 0 {
		side = column(l.entries)
		right, _ = size(side, area)
	}
	if f.Bar != nil {
		right = max(right, f.Bar.width())
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
	if b := f.Bar; b != nil {
		first, last := min(max(b.First, 0), rows-1), min(max(b.Last, 0), rows-1)
		b.draw(c, x0, bottoms[last], min(y, top[first]))
	}
}
