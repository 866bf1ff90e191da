package display

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"strings"
)

// MIME types of the outputs.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMESVG      = "image/svg+xml"
	MIMEPNG      = "image/png"
	MIMEJSON     = "application/json"
)

// Data is one output: a bundle of representations keyed by MIME type (the
// frontend shows the richest it supports), with optional metadata and an
// optional display id that later updates refer to.
type Data struct {
	MIME     map[string]any
	Metadata map[string]any
	ID       string
}

// Sink receives a cell's outputs. The kernel implements it; NewOutput(nil)
// uses one that prints text on standard output.
type Sink interface {
	// Publish shows d (Jupyter's display_data).
	Publish(d Data) error
	// Update replaces the output shown under d.ID (update_display_data).
	Update(d Data) error
	// Clear clears the cell's outputs, at once or, with wait, when the
	// next output arrives (clear_output).
	Clear(wait bool) error
	// Context is cancelled when the user interrupts the cell.
	Context() context.Context
	// Input asks the user for a line of text.
	Input(prompt string, password bool) (string, error)
}

// HTMLer is a value that shows itself as HTML.
type HTMLer interface{ HTML() string }

// Markdowner is a value that shows itself as Markdown.
type Markdowner interface{ Markdown() string }

// SVGer is a value that shows itself as an SVG image.
type SVGer interface{ SVG() string }

// PNGer is a value that shows itself as a PNG image (the encoded file).
type PNGer interface{ PNG() []byte }

// Bundle returns the MIME bundle for v: its text form (fmt's %v) and every
// rich form its type offers through HTMLer, Markdowner, SVGer or PNGer.
func Bundle(v any) map[string]any {
	m := map[string]any{MIMEText: fmt.Sprint(v)}
	if h, ok := v.(HTMLer); ok {
		m[MIMEHTML] = h.HTML()
	}
	if h, ok := v.(Markdowner); ok {
		m[MIMEMarkdown] = h.Markdown()
	}
	if h, ok := v.(SVGer); ok {
		m[MIMESVG] = h.SVG()
	}
	if h, ok := v.(PNGer); ok {
		m[MIMEPNG] = base64.StdEncoding.EncodeToString(h.PNG())
	}
	return m
}

// TableHTML renders a table as HTML, escaping every cell.
func TableHTML(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("<table>\n")
	if len(header) > 0 {
		b.WriteString("<thead><tr>")
		for _, h := range header {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
		}
		b.WriteString("</tr></thead>\n")
	}
	b.WriteString("<tbody>\n")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>")
	return b.String()
}

// TableText renders a table as aligned plain text.
func TableText(header []string, rows [][]string) string {
	all := append([][]string{header}, rows...)
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for k, r := range all {
		if k == 0 && len(header) == 0 {
			continue
		}
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
