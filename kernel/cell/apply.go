package cell

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/traefik/yaegi/interp"
)

// apply runs a planned cell: its imports and declarations are compiled,
// then its statements; the session changes only once both compiled, so a
// cell the interpreter cannot compile changes nothing.
func (e *Engine) apply(ctx context.Context, p *plan) *Error {
	var imports, decls string
	if i := strings.LastIndex(p.decls, "; "); strings.HasPrefix(p.decls, "import ") && i >= 0 {
		// Imports go first and alone: the interpreter takes each once.
		line := p.decls[:i+2]
		if nl := strings.IndexByte(p.decls, '\n'); nl >= 0 && nl < i {
			line = p.decls[:nl]
		}
		imports = line
		decls = strings.Repeat(" ", len(line)) + p.decls[len(line):]
	} else {
		decls = p.decls
	}
	if strings.TrimSpace(imports) != "" {
		if err := e.compileRun(ctx, imports, "imports"); err != nil {
			return err
		}
	}
	for n, path := range p.next.imports {
		e.sess.yaegiImports[n] = path
	}
	for n, path := range p.next.hidden {
		e.sess.yaegiImports[n] = path
	}
	if strings.TrimSpace(decls) != "" {
		if err := e.compileRun(ctx, decls, "declarations"); err != nil {
			return err
		}
	}
	body, err := e.compile(p.body)
	if err != nil {
		return unsupported(err, "statements")
	}
	if err := e.execute(ctx, body); err != nil {
		return err
	}
	e.sess = p.next
	e.mu.Lock()
	e.committed = p.next
	e.mu.Unlock()
	for _, n := range p.notices {
		fmt.Fprintln(e.stderr, "note: "+n)
	}
	call, err := e.compile(cellFunc + "()")
	if err != nil {
		return unsupported(err, "statements")
	}
	runErr := e.execute(ctx, call)
	e.free(p.freed)
	if runErr != nil {
		return runErr
	}
	if len(p.results) > 0 && !(p.printLike && e.isNil(p.results[1])) {
		e.showResult(ctx, p.results, p.resultMethods)
	}
	return nil
}

// isNil reports whether an interpreter variable holds nil.
func (e *Engine) isNil(name string) bool {
	prog, err := e.compile(name + " == nil")
	if err != nil {
		return false
	}
	v, err := e.in.Execute(prog)
	return err == nil && v.IsValid() && v.Kind() == reflect.Bool && v.Bool()
}

// compileRun compiles and runs declarations, or refuses them when the
// interpreter cannot compile what go/types accepted.
func (e *Engine) compileRun(ctx context.Context, src, what string) *Error {
	prog, err := e.compile(src)
	if err != nil {
		return unsupported(err, what)
	}
	return e.execute(ctx, prog)
}

// unsupported is a cell that type-checks but that the interpreter cannot
// compile: refused, naming the interpreter's complaint.
func unsupported(err error, what string) *Error {
	return refuse("Unsupported", "the cell is valid Go, but the interpreter (yaegi) cannot compile its "+what+": "+cleanPos(err.Error()),
		"nothing in the session changed; see docs/kernel.md for what the interpreter does not support")
}

// free zeroes interpreter variables the session no longer names, so that
// the garbage collector can take their values.
func (e *Engine) free(names []string) {
	for _, n := range names {
		prog, err := e.compile("&" + n)
		if err != nil {
			continue
		}
		v, err := e.in.Execute(prog)
		if err != nil || !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
			continue
		}
		func() {
			defer func() { recover() }() // a value the interpreter keeps in a form reflect cannot set
			v.Elem().Set(reflect.Zero(v.Elem().Type()))
		}()
	}
}

// runtimeSymbols are the kernel's helpers that rewritten cells call.
func (e *Engine) runtimeSymbols() interp.Exports {
	return interp.Exports{
		"github.com/ppfkit/ppf/kernel/cell/rt/rt": {
			"Index":     reflect.ValueOf(indexCheck),
			"Recovered": reflect.ValueOf(e.recovered),
			"Cell":      reflect.ValueOf(e.cellNumber),
			"Runes":     reflect.ValueOf(runes),
			"TypeName":  reflect.ValueOf(dynamicTypeString),
			"RunDeferred": reflect.ValueOf(func(stack *[]func()) {
				for i := len(*stack) - 1; i >= 0; i-- {
					(*stack)[i]()
				}
			}),
			"Slice": reflect.ValueOf(sliceCheck),
			"PanicMessage": reflect.ValueOf(func(v any, msg string) {
				e.mu.Lock()
				e.panicVal, e.panicMsg = fmt.Sprint(v), msg
				e.mu.Unlock()
			}),
		},
	}
}

// boundsError is Go's run-time index error, as a runtime.Error.
type boundsError struct{ i, n int }

func (b boundsError) RuntimeError() {}

func (b boundsError) Error() string {
	if b.i < 0 {
		return fmt.Sprintf("runtime error: index out of range [%d]", b.i)
	}
	return fmt.Sprintf("runtime error: index out of range [%d] with length %d", b.i, b.n)
}

// runeAt is one step of ranging over a string.
type runeAt struct {
	I int
	R rune
}

// runes decodes s as range does.
func runes(s string) []runeAt {
	var out []runeAt
	for i, r := range s {
		out = append(out, runeAt{i, r})
	}
	return out
}

// sliceError is Go's run-time slice bounds error.
type sliceError struct{ msg string }

func (s sliceError) RuntimeError() {}
func (s sliceError) Error() string { return "runtime error: slice bounds out of range " + s.msg }

// sliceCheck panics as Go does for x[lo:hi:max] out of range (hi and max
// -1 when absent), and returns lo.
func sliceCheck(lo, hi, max, capacity, length int, isString bool) int {
	what := "capacity"
	if isString {
		what = "length"
	}
	if max >= 0 {
		if max > capacity {
			panic(sliceError{fmt.Sprintf("[::%d] with %s %d", max, what, capacity)})
		}
		if hi > max {
			panic(sliceError{fmt.Sprintf("[:%d:%d]", hi, max)})
		}
		if lo > hi {
			panic(sliceError{fmt.Sprintf("[%d:%d:]", lo, hi)})
		}
		return lo
	}
	if hi < 0 {
		hi = length
		if lo > hi {
			panic(sliceError{fmt.Sprintf("[%d:%d]", lo, hi)})
		}
		return lo
	}
	if hi > capacity {
		panic(sliceError{fmt.Sprintf("[:%d] with %s %d", hi, what, capacity)})
	}
	if lo > hi {
		panic(sliceError{fmt.Sprintf("[%d:%d]", lo, hi)})
	}
	return lo
}

func indexCheck(i, n int) int {
	if i < 0 || i >= n {
		panic(boundsError{i, n})
	}
	return i
}

// cellNumber is the number of the cell running now.
func (e *Engine) cellNumber() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running
}

// recovered receives the panic of a goroutine a cell started (nil when it
// ended normally). The running cell that started it fails with the panic;
// one started by an earlier cell is reported in the next output.
func (e *Engine) recovered(r any, cell, line int) {
	if r == nil {
		return
	}
	msg := fmt.Sprint(r)
	if x, ok := r.(exitPanic); ok {
		msg = x.call + " in a goroutine"
	}
	msg = translatePanic(msg)
	e.mu.Lock()
	defer e.mu.Unlock()
	err := &Error{Name: "Panic", Value: msg, Traceback: []string{
		"panic: " + msg, "", fmt.Sprintf("in a goroutine started at line %d of cell %d; the kernel and its variables are still there", line, cell)}}
	if cell == e.running && e.runningNow {
		if e.goPanic == nil {
			e.goPanic = err
		}
		e.cancel()
		return
	}
	e.pending = append(e.pending, fmt.Sprintf("a goroutine started at line %d of cell %d panicked: %s\n", line, cell, msg))
}

// leadingPos is a position yaegi puts before some run-time errors.
var leadingPos = regexp.MustCompile(`^\d+:\d+: `)

// translatePanic rewrites the interpreter's reflect-level panics as the
// run-time errors Go gives for the same mistakes.
func translatePanic(msg string) string {
	switch {
	case strings.HasPrefix(msg, "reflect:") && (strings.Contains(msg, "zero Value") || strings.Contains(msg, "nil pointer")),
		strings.Contains(msg, "invalid memory address or nil pointer dereference"):
		return "runtime error: invalid memory address or nil pointer dereference"
	case msg == "reflect: slice index out of range", msg == "reflect: array index out of range", msg == "reflect: string index out of range":
		// Where the kernel could not check the index first (an operand
		// assigned to or addressed): Go's message, without the numbers.
		return "runtime error: index out of range (the interpreter does not say which index)"
	case msg == "reflect.Value.Call: call of nil function":
		return "runtime error: invalid memory address or nil pointer dereference"
	case strings.HasPrefix(msg, "reflect.MakeSlice: negative len"), strings.HasPrefix(msg, "reflect.MakeSlice: len > cap"):
		return "runtime error: makeslice: len out of range"
	case strings.HasPrefix(msg, "reflect: cannot convert slice with length"):
		return "runtime error: " + strings.Replace(strings.TrimPrefix(msg, "reflect: "), "to array", "to array or pointer to array", 1)
	}
	return leadingPos.ReplaceAllString(msg, "")
}

// dynamicTypeString is %T of a value of a compiled type, and refuses (panics with
// a message saying so) a value whose type the interpreter made: a struct
// declared in a cell, which reflect knows only by its fields.
func dynamicTypeString(v any) string {
	if v == nil {
		return "<nil>"
	}
	t := reflect.TypeOf(v)
	for u := t; ; {
		switch u.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			u = u.Elem()
			continue
		case reflect.Struct:
			if u.Name() == "" {
				panic("kernel: %T cannot name the type of this value: it is declared in a cell the %T's cell does not know")
			}
		}
		break
	}
	return t.String()
}
