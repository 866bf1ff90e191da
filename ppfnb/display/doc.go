// Package display is what a notebook cell calls to show more than text:
// HTML, Markdown, SVG and PNG outputs, tables, displays updated in place by
// id, progress bars, the cell's context (cancelled when the user interrupts
// the kernel) and input from the user.
//
//	display.Markdown("## Results")
//	display.Table([]string{"model", "ppl"}, [][]string{{"stories260K", "5.74"}})
//	bar := display.NewProgress("evaluating")
//	opt := native.EvalOptions{SeqLen: 256, Progress: bar.Update}
//	ev, err := lm.Evaluate(display.Context(), "tinystories/TinyStories-valid-excerpt.txt", opt)
//
// Each package-level function has a method of the same name and signature
// on *Output. Inside the PPF kernel the functions are bound to the running
// cell's Output, so their results appear in the notebook; elsewhere (a
// program, a test) they fall back to plain text on standard output and
// Context returns context.Background().
//
// A value whose type has an HTML, Markdown, SVG or PNG method (the HTMLer,
// Markdowner, SVGer and PNGer interfaces) shows richly when it is the last
// expression of a cell or is passed to Show.
//
// The package has no generics and no dependency on the kernel, so the yaegi
// interpreter can call all of it and it builds for any GOOS.
package display
