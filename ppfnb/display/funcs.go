package display

import "context"

// The functions below are what cells call. Each calls the method of the
// same name on an Output that prints text on standard output; inside the
// PPF kernel they are bound instead to the running cell's Output (the
// kernel matches them by name and signature, and a test checks that every
// one has its method).

func std() *Output { return NewOutput(nil) }

// Show shows v in the richest form its type offers (see Bundle).
func Show(v any) { std().Show(v) }

// HTML shows an HTML fragment.
func HTML(html string) { std().HTML(html) }

// Markdown shows Markdown text.
func Markdown(md string) { std().Markdown(md) }

// SVG shows an SVG image given as its XML text.
func SVG(svg string) { std().SVG(svg) }

// PNG shows a PNG image given as the bytes of the file.
func PNG(png []byte) { std().PNG(png) }

// Table shows a table with a header row (may be nil) and rows of cells.
func Table(header []string, rows [][]string) { std().Table(header, rows) }

// Publish shows d; with d.ID set it shows or replaces that display.
func Publish(d Data) { std().Publish(d) }

// Update replaces the output shown under d.ID, showing it first if the id is new.
func Update(d Data) { std().Update(d) }

// UpdateHTML shows html under display id, replacing what id showed before.
func UpdateHTML(id, html string) { std().UpdateHTML(id, html) }

// UpdateMarkdown shows md under display id, replacing what id showed before.
func UpdateMarkdown(id, md string) { std().UpdateMarkdown(id, md) }

// Clear clears the cell's outputs, at once or, with wait, just before the
// next output arrives.
func Clear(wait bool) { std().Clear(wait) }

// NewID returns a fresh display id.
func NewID() string { return std().NewID() }

// NewProgress shows an empty progress bar named label; pass its Update
// method as native.EvalOptions.Progress.
func NewProgress(label string) *Progress { return std().NewProgress(label) }

// Context returns the running cell's context, cancelled when the user
// interrupts the kernel (context.Background() outside the kernel).
func Context() context.Context { return std().Context() }

// Input asks the user for a line of text.
func Input(prompt string) (string, error) { return std().Input(prompt) }

// Password asks the user for a line of text without echoing it.
func Password(prompt string) (string, error) { return std().Password(prompt) }
