package ppfnb

import (
	"image/color"

	"github.com/ppfkit/ppf/ppfnb/chart"
)

// The charts of this package are figures of package chart: gonum/plot
// panels in a grid whose data areas line up, under an optional title,
// with a legend shared by the panels and a colour bar beside them, never
// on the data. The aliases below keep a cell's ppfnb.Figure working.

// DPI is the resolution of Figure.PNG: pixels per inch. Figure sizes are
// in pixels at this resolution; the SVG form has the same size in inches.
const DPI = chart.DPI

// Figure is a chart ready to show: make it the last expression of a
// notebook cell (it has a PNG method, so the kernel shows it as an image;
// AsSVG shows it as SVG), or write it to a file with Save (.png or .svg).
// The Plot* functions make them; change a field (a panel's title, an axis
// range) before showing it to adjust one. It is package chart's Figure,
// whose docs list its fields and methods.
type Figure = chart.Figure

// SVGFigure is a Figure shown as SVG (see Figure.AsSVG).
type SVGFigure = chart.SVGFigure

// methodColors are the pruning methods' fixed colours (indices in
// chart.Palette): a method keeps its colour in every chart.
var methodColors = map[string]int{
	"uniform": 6, "wanda-sp": 0, "owl": 1, "flap": 2, "shortgpt": 3, "random": 5,
	MethodPPFUniform: 5, MethodPPFDynamic: 4, MethodPPFStatic: 3, MethodPPF: 3, MethodPPFFocused: 4, MethodEvoPress: 0, MethodRandomSearch: 1, "ppf-agent": 4, "ppf-search": 3, "agent": 4, "search": 3,
}

// seriesColorsFor returns a colour per series name, the methods' own
// where the names are methods.
func seriesColorsFor(names []string) []color.RGBA { return chart.SeriesColors(names, methodColors) }
