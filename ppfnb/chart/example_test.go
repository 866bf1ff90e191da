package chart_test

import (
	"fmt"

	"gonum.org/v1/plot"

	"github.com/ppfkit/ppf/ppfnb/chart"
)

// A line on a log axis, its legend on the right.
func Example() {
	p := chart.NewPanel("", "ratio", "perplexity (log scale)")
	x, y := []float64{0.1, 0.2, 0.3}, []float64{7.56, 11.97, 19.90}
	pts := chart.Finite(chart.XYs(x, y), true)
	for i := range pts {
		pts[i].Y = chart.Log(pts[i].Y)
	}
	color := chart.SeriesColors([]string{"flap"}, nil)[0]
	line := chart.NewLine(pts, color, 1.5)
	p.Add(line)
	chart.LogRange(&p.Y, 7.56, 19.90)
	leg := &chart.Legend{}
	leg.Add("flap", line)
	f := &chart.Figure{Title: "Perplexity after pruning", Width: 600, Height: 400, Panels: []*plot.Plot{p}, Legend: leg}
	fmt.Println(f, len(f.PNG()) > 0)
	// Output: figure "Perplexity after pruning": 1 panel(s), 600x400 pixels true
}
