package cell

import (
	"errors"
	"go/token"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsComplete tells a console whether code is ready to run: "complete",
// "incomplete" (it ends inside a bracket, block or string; indent is the
// indentation for the next line) or "invalid".
func IsComplete(code string) (status, indent string) {
	_, err := scanItems(code)
	var inc errIncomplete
	switch {
	case err == nil:
		return "complete", ""
	case errors.As(err, &inc):
		return "incomplete", "\t"
	default:
		return "invalid", ""
	}
}

// runeOffset converts a cursor position in code points (as Jupyter counts
// them) to a byte offset in code.
func runeOffset(code string, cursor int) int {
	off := 0
	for i := 0; i < cursor && off < len(code); i++ {
		_, n := utf8.DecodeRuneInString(code[off:])
		off += n
	}
	return off
}

// runeCount is the inverse of runeOffset.
func runeCount(code string, off int) int { return utf8.RuneCountInString(code[:off]) }

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordAt returns the selector expression ending at byte offset off: the
// package or variable before a dot (may be ""), and the partial name.
func wordAt(code string, off int) (qual, name string, start int) {
	start = off
	for start > 0 {
		r, n := utf8.DecodeLastRuneInString(code[:start])
		if !isIdent(r) {
			break
		}
		start -= n
	}
	name = code[start:off]
	if start > 0 && code[start-1] == '.' {
		q := start - 1
		for q > 0 {
			r, n := utf8.DecodeLastRuneInString(code[:q])
			if !isIdent(r) {
				break
			}
			q -= n
		}
		qual = code[q : start-1]
	}
	return qual, name, start
}

// names returns what a name can complete to after qual ("" for top level):
// the members of an imported package, or the cell globals, packages, Go
// keywords and predeclared identifiers.
func (e *Engine) names(qual string) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	if qual != "" {
		for path, syms := range e.packages() {
			if pkgName(path) == qual {
				for n, v := range syms {
					out[n] = v
				}
			}
		}
		if v, ok := e.in.Globals()[qual]; ok && len(out) == 0 {
			members(v, out)
		}
		return out
	}
	for n, v := range e.in.Globals() {
		if !strings.HasPrefix(n, "_ppf") {
			out[n] = v
		}
	}
	for path := range e.packages() {
		out[pkgName(path)] = reflect.Value{}
	}
	for _, kw := range append(keywords(), predeclared...) {
		if _, ok := out[kw]; !ok {
			out[kw] = reflect.Value{}
		}
	}
	return out
}

// packages returns the compiled packages a cell can import, by import path.
func (e *Engine) packages() map[string]map[string]reflect.Value {
	out := map[string]map[string]reflect.Value{}
	for key, syms := range e.symbols {
		if i := strings.LastIndex(key, "/"); i > 0 {
			out[key[:i]] = syms
		}
	}
	return out
}

func pkgName(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

func keywords() []string {
	var kws []string
	for t := token.BREAK; t <= token.VAR; t++ {
		if token.IsKeyword(t.String()) {
			kws = append(kws, t.String())
		}
	}
	return kws
}

var predeclared = []string{"any", "append", "bool", "byte", "cap", "clear", "close", "complex", "copy",
	"delete", "error", "false", "float32", "float64", "int", "int64", "iota", "len", "make", "max", "min",
	"new", "nil", "panic", "print", "println", "recover", "rune", "string", "true", "uint", "uint8"}

// Complete returns the names that can replace code[start:end] (cursor and
// positions in code points).
func (e *Engine) Complete(code string, cursor int) (matches []string, start, end int) {
	off := runeOffset(code, cursor)
	qual, name, s := wordAt(code, off)
	for n := range e.names(qual) {
		if strings.HasPrefix(n, name) {
			matches = append(matches, n)
		}
	}
	sort.Strings(matches)
	return matches, runeCount(code, s), cursor
}

// Inspect describes the name under the cursor: its package and type, and
// its value for a cell variable. found is false when nothing is known.
func (e *Engine) Inspect(code string, cursor int) (text string, found bool) {
	off := runeOffset(code, cursor)
	for off < len(code) {
		r, n := utf8.DecodeRuneInString(code[off:])
		if !isIdent(r) {
			break
		}
		off += n
	}
	qual, name, _ := wordAt(code, off)
	if name == "" && off > 0 && code[off-1] == '(' {
		qual, name, _ = wordAt(code, off-1) // the function being called
	}
	if name == "" {
		return "", false
	}
	v, ok := e.names(qual)[name]
	if !ok {
		return "", false
	}
	full := name
	if qual != "" {
		full = qual + "." + name
	}
	if !v.IsValid() {
		return full, true
	}
	t := v.Type()
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil() && t.Elem().Kind() != reflect.Pointer:
		// A type: the symbols hold a nil pointer to it.
		return full + " is a type: " + t.Elem().String() + " (" + t.Elem().Kind().String() + ")", true
	case v.Kind() == reflect.Func:
		return full + " " + t.String(), true
	case qual == "" && v.CanInterface():
		return full + " " + t.String() + " = " + Format(v.Interface()), true
	}
	return full + " " + t.String(), true
}

// members adds the exported fields and methods of a compiled value.
func members(v reflect.Value, out map[string]reflect.Value) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		out[t.Method(i).Name] = v.Method(i)
	}
	if t.Kind() == reflect.Pointer && !v.IsNil() {
		v, t = v.Elem(), t.Elem()
	}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				out[f.Name] = v.Field(i)
			}
		}
	}
}
