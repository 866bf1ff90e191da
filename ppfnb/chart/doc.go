// Package chart draws the project's figures with gonum/plot. A [Figure]
// lays out panels (gonum plots, made with [NewPanel]) in a grid whose data
// areas line up, with an optional title over them, a shared [Legend] in a
// column on the right or in a row below, and a [ColorBar] beside the rows
// it explains: legends never sit on the data. A Figure shows itself in a
// notebook as PNG (or SVG, [Figure.AsSVG]) and writes itself to a file
// with [Figure.Save].
//
// The rest is what the charts are made of: marks gonum/plot has no
// plotter for ([Bars] in data units, heat-map [Cells]) and lines and
// points in the charts' style ([NewLine], [NewDashed], [NewPoints]);
// tick markers ([LogTicks] and [NarrowLogTicks] for log axes drawn as
// [Log] of the values on a linear axis, [NiceTicks], [StepTicks],
// [IntTicks], [PercentTicks]); colour ramps ([HeatRamp], [ViridisRamp])
// and series colours that colour-blind readers tell apart ([Palette],
// [SeriesColors]).
//
// The charts themselves (perplexity against ratio, policies, parity,
// training curves) are package ppfnb's Plot* functions; this package
// knows nothing of pruning.
package chart
