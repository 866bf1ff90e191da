package cell

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/ppfkit/ppf/ppfnb/display"
)

// flushDelay is how long printed text waits for more before it is sent,
// so that a loop of small prints becomes a few messages.
const flushDelay = 50 * time.Millisecond

// stream buffers what a cell prints on stdout or stderr.
type stream struct {
	name string
	e    *Engine

	flushMu sync.Mutex // held while sending, so that flushes keep their order
	mu      sync.Mutex
	buf     []byte
	timer   *time.Timer
}

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	if s.timer == nil {
		s.timer = time.AfterFunc(flushDelay, s.flush)
	}
	s.mu.Unlock()
	return len(p), nil
}

func (s *stream) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	b := s.buf
	s.buf = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	if len(b) > 0 {
		s.e.publisher().Stream(s.name, string(b))
	}
}

// stdinReader is the interpreter's standard input: each read that finds
// nothing buffered asks the user for a line (Jupyter's input_request).
type stdinReader struct {
	e   *Engine
	mu  sync.Mutex
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		r.e.flush()
		line, err := r.e.publisher().Input("", false)
		if err != nil {
			return 0, err
		}
		r.buf = []byte(line + "\n")
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// sink is the display.Sink of the engine: it sends to the running cell.
type sink struct{ e *Engine }

func (s sink) Publish(d display.Data) error {
	s.e.flush()
	s.e.publisher().Display(d, false)
	return nil
}

func (s sink) Update(d display.Data) error {
	s.e.flush()
	s.e.publisher().Display(d, true)
	return nil
}

func (s sink) Clear(wait bool) error {
	s.e.flush()
	s.e.publisher().Clear(wait)
	return nil
}

func (s sink) Context() context.Context {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	return s.e.ctx
}

func (s sink) Input(prompt string, password bool) (string, error) {
	s.e.flush()
	return s.e.publisher().Input(prompt, password)
}

// Format writes a value as text for the notebook, like fmt's %+v but
// bounded: long slices and deep structures are summarized, so that showing
// a model does not print its weights.
func Format(v any) string {
	var b strings.Builder
	format(&b, reflect.ValueOf(v), 0)
	return b.String()
}

const (
	maxDepth = 3
	maxItems = 10
)

func format(b *strings.Builder, v reflect.Value, depth int) {
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	if v.CanInterface() && depth > 0 {
		switch x := v.Interface().(type) {
		case error:
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				fmt.Fprintf(b, "%q", x.Error())
				return
			}
		case fmt.Stringer:
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				b.WriteString(x.String())
				return
			}
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("<nil>")
			return
		}
		b.WriteString("&")
		format(b, v.Elem(), depth)
	case reflect.Interface:
		format(b, v.Elem(), depth)
	case reflect.Struct:
		if depth >= maxDepth {
			fmt.Fprintf(b, "%s{...}", typeName(v.Type()))
			return
		}
		fmt.Fprintf(b, "%s{", typeName(v.Type()))
		for i := 0; i < v.NumField(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%s: ", v.Type().Field(i).Name)
			format(b, v.Field(i), depth+1)
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("[]")
			return
		}
		if depth >= maxDepth {
			fmt.Fprintf(b, "[%d items]", v.Len())
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len() && i < maxItems; i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			format(b, v.Index(i), depth+1)
		}
		if v.Len() > maxItems {
			fmt.Fprintf(b, " ... (%d items)", v.Len())
		}
		b.WriteString("]")
	case reflect.Map:
		if depth >= maxDepth {
			fmt.Fprintf(b, "map[%d entries]", v.Len())
			return
		}
		b.WriteString("map[")
		it := v.MapRange()
		for i := 0; it.Next(); i++ {
			if i == maxItems {
				fmt.Fprintf(b, " ... (%d entries)", v.Len())
				break
			}
			if i > 0 {
				b.WriteString(" ")
			}
			format(b, it.Key(), depth+1)
			b.WriteString(":")
			format(b, it.Value(), depth+1)
		}
		b.WriteString("]")
	case reflect.String:
		if depth > 0 {
			fmt.Fprintf(b, "%q", v.String())
		} else {
			b.WriteString(v.String())
		}
	case reflect.Func:
		fmt.Fprintf(b, "%s", v.Type())
	default:
		if v.CanInterface() {
			fmt.Fprint(b, v.Interface())
		} else {
			fmt.Fprintf(b, "%v", v)
		}
	}
}

// typeName names a type, or calls it "struct" when it is unnamed (types
// declared in cells reach compiled code as unnamed structs).
func typeName(t reflect.Type) string {
	if t.Name() == "" {
		return "struct"
	}
	return t.String()
}
