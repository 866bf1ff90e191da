package cell

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"go/types"
	"io"
	"log"
	"maps"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/ppfkit/ppf/kernel/cell/gotypes"
	"github.com/ppfkit/ppf/kernel/cell/symbols"
	"github.com/ppfkit/ppf/ppfnb/display"
)

// Publisher receives what a cell shows. The dispatch layer implements it
// for each execute request.
type Publisher interface {
	// Stream sends text written to "stdout" or "stderr".
	Stream(name, text string)
	// Display shows d, or replaces the display d.ID when update is set.
	Display(d display.Data, update bool)
	// Clear clears the cell's outputs (now, or with wait before the next).
	Clear(wait bool)
	// Page shows text in the frontend's pager (a help request).
	Page(text string)
	// Result shows the value of the cell's last expression.
	Result(d display.Data)
	// Error reports the cell's failure.
	Error(e *Error)
	// Input asks the user for a line of text.
	Input(prompt string, password bool) (string, error)
}

// Error is a failed cell, in the fields of Jupyter's error message.
type Error struct {
	Name      string   // "CompileError", "Panic", "Exit", "Interrupted"
	Value     string   // what happened, and what to do about it
	Traceback []string // lines shown to the user
}

func (e *Error) Error() string { return e.Name + ": " + e.Value }

// Engine runs cells in one interpreter. Cells run one at a time; Interrupt
// may be called from any goroutine.
type Engine struct {
	in      *interp.Interpreter
	symbols interp.Exports // the compiled packages, as loaded

	mu     sync.Mutex // guards the fields below
	pub    Publisher  // the running (or last) cell's
	ctx    context.Context
	cancel context.CancelFunc
	trace  []string // interpreted frames of the panic being unwound

	sync func() // waits for captured output (SetOutputSync)

	sess *session // what earlier cells declared (only the running cell changes it)
	// committed is the session as the last cell left it, for completion
	// and help, which run beside cells (guarded by mu; never changed
	// after it is committed, but for its interpreter imports).
	committed *session
	importer  types.Importer // the packages cells can import, for go/types

	count      int             // cells executed, refused ones included
	running    int             // the number of the running (or last) cell
	runningNow bool            // a cell is running
	goPanic    *Error          // the panic of a goroutine of the running cell
	panicMsg   string          // what Go prints for the value of a panic the cell is making
	panicVal   string          // that value, as fmt prints it without its methods
	pending    []string        // panics of goroutines of finished cells, not yet shown
	background context.Context // what context.Background() means in cells: cancelled by an interrupt
	stopAll    context.CancelFunc

	stdout, stderr *stream
}

// New returns an Engine with the standard library and the project's
// packages importable.
func New() (*Engine, error) {
	e := &Engine{ctx: context.Background(), cancel: func() {}, pub: discard{}, sess: newSession()}
	e.committed = e.sess
	e.background, e.stopAll = context.WithCancel(context.Background())
	e.stdout = &stream{name: "stdout", e: e}
	e.stderr = &stream{name: "stderr", e: e}
	e.in = interp.New(interp.Options{
		Stdin:  &stdinReader{e: e},
		Stdout: e.stdout,
		Stderr: panicFilter{e: e},
		Args:   []string{"ppf-kernel"},
		Env:    os.Environ(),
	})
	ov := e.overrides()
	maps.Copy(ov, e.runtimeSymbols())
	// The importer sees whole packages, with the overridden symbols.
	e.symbols = interp.Exports{}
	for _, ex := range []interp.Exports{stdlib.Symbols, ov} {
		for path, syms := range ex {
			if e.symbols[path] == nil {
				e.symbols[path] = map[string]reflect.Value{}
			}
			maps.Copy(e.symbols[path], syms)
		}
	}
	if err := e.in.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("loading the standard library into the interpreter: %w", err)
	}
	if err := compileGenericSources(e.in); err != nil {
		return nil, fmt.Errorf("loading the standard library into the interpreter: %w", err)
	}
	if err := e.in.Use(ov); err != nil {
		return nil, fmt.Errorf("loading the project's packages into the interpreter: %w", err)
	}
	e.importer = gotypes.NewImporter(e.symbols, genericSources())
	if _, err := e.compile("import " + runtimePkg + ` "github.com/ppfkit/ppf/kernel/cell/rt"`); err != nil {
		return nil, fmt.Errorf("importing the kernel's helpers (a bug): %w", err)
	}
	e.sess.yaegiImports[runtimePkg] = "github.com/ppfkit/ppf/kernel/cell/rt"
	if _, err := e.compile("import " + hiddenFmt + ` "fmt"`); err != nil {
		return nil, fmt.Errorf("importing fmt for the kernel (a bug): %w", err)
	}
	e.sess.yaegiImports[hiddenFmt] = "fmt"
	if err := e.compileRun(context.Background(), "var "+lineVar+" int", "prelude"); err != nil {
		return nil, fmt.Errorf("declaring the kernel's line marker (a bug): %v", err)
	}
	return e, nil
}

// exitPanic is what os.Exit and log.Fatal panic with inside a cell.
type exitPanic struct {
	code int
	call string
}

// overrides returns the project's symbols, with ppfnb/display's functions
// bound to this engine's Output, and os.Exit and log.Fatal turned into
// panics that stop the cell.
func (e *Engine) overrides() interp.Exports {
	out := display.NewOutput(sink{e})
	ex := interp.Exports{}
	for path, syms := range symbols.Symbols {
		m := map[string]reflect.Value{}
		for name, v := range syms {
			m[name] = v
		}
		ex[path] = m
	}
	disp := ex["github.com/ppfkit/ppf/ppfnb/display/display"]
	ov := reflect.ValueOf(out)
	for name, v := range disp {
		if v.Kind() != reflect.Func {
			continue
		}
		if meth := ov.MethodByName(name); meth.IsValid() && meth.Type() == v.Type() {
			disp[name] = meth
		}
	}
	// Inside cells, context.Background() is cancelled by an interrupt, so
	// compiled work a cell started stops whatever context it was given.
	ex["context/context"] = map[string]reflect.Value{
		"Background": reflect.ValueOf(e.cellBackground),
		"TODO":       reflect.ValueOf(e.cellBackground),
	}
	logger := log.New(e.stderr, "", log.LstdFlags)
	fatal := func(call string, print func()) { print(); panic(exitPanic{1, call}) }
	ex["os/os"] = map[string]reflect.Value{
		"Exit": reflect.ValueOf(func(code int) { panic(exitPanic{code, fmt.Sprintf("os.Exit(%d)", code)}) }),
	}
	ex["log/log"] = map[string]reflect.Value{
		"Fatal":   reflect.ValueOf(func(v ...any) { fatal("log.Fatal", func() { logger.Print(v...) }) }),
		"Fatalf":  reflect.ValueOf(func(f string, v ...any) { fatal("log.Fatalf", func() { logger.Printf(f, v...) }) }),
		"Fatalln": reflect.ValueOf(func(v ...any) { fatal("log.Fatalln", func() { logger.Println(v...) }) }),
	}
	return ex
}

// Interrupt cancels the running cell's context and stops the interpreter
// at its next step. Compiled calls stop when they next check the context.
func (e *Engine) Interrupt() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancel()
	e.stopAll()
	e.background, e.stopAll = context.WithCancel(context.Background())
}

// committedSession is the session as the last cell left it.
func (e *Engine) committedSession() *session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.committed
}

// cellBackground is context.Background() in cells: a context that an
// interrupt cancels.
func (e *Engine) cellBackground() context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.background
}

// Execute runs one cell, publishing its outputs to pub, and returns its
// error, also published, or nil.
func (e *Engine) Execute(ctx context.Context, code string, pub Publisher) *Error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	e.pub, e.ctx, e.cancel, e.trace = pub, ctx, cancel, nil
	e.count++
	e.running, e.runningNow, e.goPanic = e.count, true, nil
	pending := e.pending
	e.pending = nil
	e.mu.Unlock()
	for _, p := range pending {
		pub.Stream("stderr", p)
	}

	err := e.run(ctx, code)
	e.mu.Lock()
	if e.goPanic != nil {
		err = e.goPanic
	}
	e.runningNow = false
	e.mu.Unlock()
	e.mu.Lock()
	sync := e.sync
	e.mu.Unlock()
	if sync != nil {
		sync()
	}
	e.flush()
	if err != nil {
		pub.Error(err)
	}
	return err
}

func (e *Engine) run(ctx context.Context, code string) *Error {
	if name, ok := strings.CutPrefix(strings.TrimSpace(code), "?"); ok {
		// A help request, as in IPython: "?strings.ToUpper".
		text, found := e.Inspect(name, utf8.RuneCountInString(name))
		if !found {
			text = "nothing known about " + name + ": check its spelling, and import its package in a cell first"
		}
		e.publisher().Page(text)
		return nil
	}
	p, perr := e.makePlan(code)
	if perr != nil {
		return perr
	}
	return e.apply(ctx, p)
}

// richForms are the methods that give a value's rich forms, by MIME type.
// They are found by compiling a call, so they work for types declared in
// cells, whose methods compiled code cannot see.
var richForms = []struct{ method, mime string }{
	{"HTML", display.MIMEHTML},
	{"Markdown", display.MIMEMarkdown},
	{"SVG", display.MIMESVG},
	{"PNG", display.MIMEPNG},
	{"Error", display.MIMEText},
	{"String", display.MIMEText},
}

// showResult publishes the values of the interpreter variables names
// (the cell's last expression), each with every rich form its type has.
func (e *Engine) showResult(ctx context.Context, names []string, methods map[string]bool) {
	if len(names) > 1 {
		var texts []string
		for _, n := range names {
			texts = append(texts, e.resultText(ctx, n, nil))
		}
		e.flush()
		e.publisher().Result(display.Data{MIME: map[string]any{display.MIMEText: strings.Join(texts, ", ")}})
		return
	}
	name := names[0]
	m := map[string]any{}
	for _, f := range richForms {
		if _, ok := m[f.mime]; ok || (methods != nil && !methods[f.method]) {
			continue
		}
		prog, err := e.compile(name + "." + f.method + "()")
		if err != nil {
			continue
		}
		v, err := e.in.ExecuteWithContext(ctx, prog)
		if err != nil || !v.IsValid() {
			continue
		}
		switch x := v.Interface().(type) {
		case string:
			m[f.mime] = x
		case []byte:
			m[f.mime] = base64.StdEncoding.EncodeToString(x)
		}
	}
	e.mu.Lock()
	e.trace = nil // frames of a method that panicked above
	e.mu.Unlock()
	if _, ok := m[display.MIMEText]; !ok {
		m[display.MIMEText] = e.resultText(ctx, name, methods)
	}
	e.flush()
	e.publisher().Result(display.Data{MIME: m})
}

// resultText formats the value of an interpreter variable: an error by
// its Error, a Stringer by its String, as a cell's single result is.
func (e *Engine) resultText(ctx context.Context, name string, methods map[string]bool) string {
	if methods != nil && !methods["Error"] && !methods["String"] {
		return e.formatVar(ctx, name)
	}
	if e.isNil(name) {
		return "<nil>"
	}
	for _, m := range []string{"Error", "String"} {
		if prog, err := e.compile(name + "." + m + "()"); err == nil {
			if v, err := e.in.ExecuteWithContext(ctx, prog); err == nil && v.IsValid() && v.Kind() == reflect.String {
				return v.String()
			}
		}
	}
	return e.formatVar(ctx, name)
}

// formatVar formats an interpreter variable's value with Format.
func (e *Engine) formatVar(ctx context.Context, name string) string {
	prog, err := e.compile(name)
	if err != nil {
		return "?"
	}
	v, err := e.in.ExecuteWithContext(ctx, prog)
	if err != nil {
		return "?"
	}
	var x any
	if v.IsValid() && v.CanInterface() {
		x = v.Interface()
	}
	return Format(x)
}

// compile compiles src, turning the interpreter's own panics (on code it
// does not support) into errors.
func (e *Engine) compile(src string) (prog *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the interpreter (yaegi) failed on this code: %v", r)
		}
	}()
	return e.in.Compile(src)
}

// stopGrace is how long an interrupted cell's interpreter goroutine is
// given to notice that it was stopped.
const stopGrace = 100 * time.Millisecond

func (e *Engine) execute(ctx context.Context, prog *interp.Program) *Error {
	_, err := e.in.ExecuteWithContext(ctx, prog)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		// yaegi returns at once and stops its goroutine only when that
		// goroutine next checks (between interpreted steps): give it time,
		// so that the next cell does not run beside the end of this one.
		time.Sleep(stopGrace)
		return &Error{Name: "Interrupted", Value: "the cell was interrupted",
			Traceback: []string{"Interrupted: the cell was interrupted"}}
	}
	var p interp.Panic
	if !errors.As(err, &p) {
		return &Error{Name: "RuntimeError", Value: cleanPos(err.Error()), Traceback: []string{"RuntimeError: " + cleanPos(err.Error())}}
	}
	e.mu.Lock()
	trace := e.trace
	e.trace = nil
	e.mu.Unlock()
	if x, ok := p.Value.(exitPanic); ok {
		v := fmt.Sprintf("%s stopped the cell (exit status %d); the kernel and its variables are still there", x.call, x.code)
		return &Error{Name: "Exit", Value: v, Traceback: []string{"Exit: " + v}}
	}
	v := translatePanic(fmt.Sprint(p.Value))
	e.mu.Lock()
	if e.panicMsg != "" && fmt.Sprint(p.Value) == e.panicVal {
		v = e.panicMsg
	}
	e.panicMsg = ""
	e.mu.Unlock()
	tb := []string{"panic: " + v, "", "goroutine of the cell (innermost first):"}
	if len(trace) > 0 {
		// yaegi places the innermost frame at the start of its block; the
		// statement markers (see rewriter.markLines) know the line.
		trace[0] = e.innermostLine(trace[0])
	}
	for _, t := range trace {
		tb = append(tb, "    "+t)
	}
	return &Error{Name: "Panic", Value: v, Traceback: tb}
}

// lineRe matches the line that starts a traceback entry.
var lineRe = regexp.MustCompile(`^line \d+`)

// innermostLine rewrites a traceback entry with the line of the last
// statement the cell's code started, from the marker variable.
func (e *Engine) innermostLine(entry string) string {
	prog, err := e.compile(lineVar)
	if err != nil {
		return entry
	}
	v, err := e.in.Execute(prog)
	if err != nil || !v.IsValid() || !v.CanInt() || v.Int() == 0 {
		return entry
	}
	cell, line := int(v.Int()>>lineBits), int(v.Int()&(1<<lineBits-1))
	where := fmt.Sprintf("line %d", line)
	if cell != e.running {
		where += fmt.Sprintf(" of cell %d", cell)
	}
	return lineRe.ReplaceAllString(entry, where)
}

// atEnd rewrites an error placed after the cell's last line (where the
// interpreter closes the function it wraps statements in) as "at the end
// of the cell".
func atEnd(err error, code string) error {
	var inc errIncomplete
	if errors.As(err, &inc) {
		return err
	}
	lines := strings.Count(code, "\n") + 1
	msg := posRe.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := posRe.FindStringSubmatch(m)
		if n, _ := strconv.Atoi(sub[2]); n > lines {
			return sub[1] + "at the end of the cell: "
		}
		return m
	})
	msg = strings.Replace(msg, "found '}'", "found the end of the cell", 1)
	return errors.New(msg)
}

func compileError(err error) *Error {
	var inc errIncomplete
	msg := cleanPos(err.Error())
	if errors.As(err, &inc) {
		msg += ": close it and run the cell again"
	}
	tb := []string{"CompileError:"}
	for _, l := range strings.Split(msg, "\n") {
		tb = append(tb, "    "+l)
	}
	return &Error{Name: "CompileError", Value: msg, Traceback: tb}
}

// posRe matches the interpreter's source name in positions.
var posRe = regexp.MustCompile(`(^|\s)(?:_\.go:)?(\d+):(\d+): `)

// cleanPos writes positions as "line L:C: " of the cell.
func cleanPos(s string) string { return posRe.ReplaceAllString(s, "${1}line $2:$3: ") }

// SetOutputSync sets a function that Execute calls when a cell ends,
// before its last output, to wait until what the process wrote to its
// captured descriptors has reached Stdout and Stderr.
func (e *Engine) SetOutputSync(sync func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sync = sync
}

// Stdout is where text written to the cell's standard output goes (the
// kernel sends the process's descriptor 1 here).
func (e *Engine) Stdout() io.Writer { return e.stdout }

// Stderr is where text written to the cell's standard error goes.
func (e *Engine) Stderr() io.Writer { return e.stderr }

// publisher returns the running (or last) cell's publisher.
func (e *Engine) publisher() Publisher {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pub
}

// flush sends what the cell printed so far, before another output.
func (e *Engine) flush() {
	e.stdout.flush()
	e.stderr.flush()
}

// panicRe matches the lines yaegi prints for each interpreted frame that a
// panic unwinds, as "_.go:3:2: panic: main.f(...)".
var panicRe = regexp.MustCompile(`^(\S+:)?\d+:\d+: panic`)

// panicFilter is the interpreter's stderr: panic frames go to the cell's
// traceback, the rest to the stderr stream.
type panicFilter struct{ e *Engine }

func (f panicFilter) Write(p []byte) (int, error) {
	if panicRe.Match(p) {
		line := strings.TrimSpace(posRe.ReplaceAllString(string(p), "${1}line $2: "))
		if strings.HasSuffix(line, ": panic: main(...)") {
			return len(p), nil // the kernel's call of the cell's function
		}
		line = strings.Replace(line, ": panic: main."+cellFunc+"(...)", ": in the cell", 1)
		line = strings.Replace(line, ": panic: main.", ": in ", 1)
		line = strings.Replace(line, ": panic", "", 1)
		line = strings.Replace(line, "(...)", "", 1)
		line = versionRe.ReplaceAllString(line, "")
		f.e.mu.Lock()
		f.e.trace = append(f.e.trace, line)
		f.e.mu.Unlock()
		return len(p), nil
	}
	return f.e.stderr.Write(p)
}

// versionRe matches the suffix of the interpreter's names for redefined
// declarations.
var versionRe = regexp.MustCompile(`_ppfv\d+\b`)

// discard is the publisher before the first cell.
type discard struct{}

func (discard) Stream(string, string)              {}
func (discard) Display(display.Data, bool)         {}
func (discard) Result(display.Data)                {}
func (discard) Clear(bool)                         {}
func (discard) Page(string)                        {}
func (discard) Error(*Error)                       {}
func (discard) Input(string, bool) (string, error) { return "", io.EOF }
