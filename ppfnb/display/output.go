package display

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Output shows a cell's displays through a Sink. Its methods are safe for
// concurrent use; display failures are kept for Err rather than returned,
// so that cells can call them as statements.
type Output struct {
	sink Sink

	mu    sync.Mutex
	shown map[string]bool // display ids already published
	err   error
}

// NewOutput returns an Output that writes to sink, or to standard output
// as plain text when sink is nil.
func NewOutput(sink Sink) *Output {
	if sink == nil {
		sink = textSink{w: os.Stdout, r: os.Stdin}
	}
	return &Output{sink: sink, shown: map[string]bool{}}
}

// Err returns the first error a display met, if any.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *Output) keep(err error) {
	if err == nil {
		return
	}
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
}

// Publish shows d. When d.ID is set, the first Publish or Update with that
// id shows the output and later ones replace it.
func (o *Output) Publish(d Data) {
	if d.ID == "" {
		o.keep(o.sink.Publish(d))
		return
	}
	o.Update(d)
}

// Update replaces the output shown under d.ID, showing it first if the id
// is new.
func (o *Output) Update(d Data) {
	if d.ID == "" {
		o.keep(errors.New("display.Update needs a Data with an ID: get one from display.NewID"))
		return
	}
	o.mu.Lock()
	seen := o.shown[d.ID]
	o.shown[d.ID] = true
	o.mu.Unlock()
	if seen {
		o.keep(o.sink.Update(d))
	} else {
		o.keep(o.sink.Publish(d))
	}
}

// Clear clears the cell's outputs, at once or, with wait, just before the
// next output arrives (which avoids flicker in animations).
func (o *Output) Clear(wait bool) { o.keep(o.sink.Clear(wait)) }

// NewID returns a fresh display id for Update and the Update* functions.
func (o *Output) NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return "ppf-" + hex.EncodeToString(b[:])
}

// Show shows v in the richest form its type offers (see Bundle).
func (o *Output) Show(v any) { o.Publish(Data{MIME: Bundle(v)}) }

// HTML shows an HTML fragment.
func (o *Output) HTML(html string) { o.Publish(htmlData("", html)) }

// Markdown shows Markdown text.
func (o *Output) Markdown(md string) { o.Publish(markdownData("", md)) }

// SVG shows an SVG image given as its XML text.
func (o *Output) SVG(svg string) {
	o.Publish(Data{MIME: map[string]any{MIMESVG: svg, MIMEText: "<svg image>"}})
}

// PNG shows a PNG image given as the bytes of the file.
func (o *Output) PNG(png []byte) {
	o.Publish(Data{MIME: map[string]any{MIMEPNG: base64.StdEncoding.EncodeToString(png),
		MIMEText: fmt.Sprintf("<png image, %d bytes>", len(png))}})
}

// Table shows a table with a header row (may be nil) and rows of cells.
func (o *Output) Table(header []string, rows [][]string) {
	o.Publish(Data{MIME: map[string]any{MIMEHTML: TableHTML(header, rows), MIMEText: TableText(header, rows)}})
}

// UpdateHTML shows html under display id, replacing what id showed before.
func (o *Output) UpdateHTML(id, html string) { o.Update(htmlData(id, html)) }

// UpdateMarkdown shows md under display id, replacing what id showed before.
func (o *Output) UpdateMarkdown(id, md string) { o.Update(markdownData(id, md)) }

// Context returns the running cell's context: it is cancelled when the
// user interrupts the kernel, so pass it to every long call.
func (o *Output) Context() context.Context { return o.sink.Context() }

// Input asks the user for a line of text.
func (o *Output) Input(prompt string) (string, error) { return o.sink.Input(prompt, false) }

// Password asks the user for a line of text without echoing it.
func (o *Output) Password(prompt string) (string, error) { return o.sink.Input(prompt, true) }

func htmlData(id, html string) Data {
	return Data{ID: id, MIME: map[string]any{MIMEHTML: html, MIMEText: html}}
}

func markdownData(id, md string) Data {
	return Data{ID: id, MIME: map[string]any{MIMEMarkdown: md, MIMEText: md}}
}

// textSink is the Sink outside the kernel: plain text on a writer.
type textSink struct {
	w io.Writer
	r io.Reader
}

func (s textSink) Publish(d Data) error {
	text, _ := d.MIME[MIMEText].(string)
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, err := io.WriteString(s.w, text)
	return err
}

func (s textSink) Update(d Data) error { return s.Publish(d) }

func (textSink) Clear(bool) error { return nil }

func (textSink) Context() context.Context { return context.Background() }

func (s textSink) Input(prompt string, _ bool) (string, error) {
	io.WriteString(s.w, prompt)
	line, err := bufio.NewReader(s.r).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
