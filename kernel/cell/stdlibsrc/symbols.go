package stdlibsrc

import (
	"bytes"
	"go/ast"
	"reflect"
	"strings"
)

//go:generate go run gensymbols.go

// Symbols returns symbol tables, in yaegi's interp.Exports form ("import
// path/package name" -> name -> value), of the standard library's
// exported non-generic functions, types, variables and constants that
// yaegi's stdlib.Symbols (Go 1.22) lacks: those gensymbols.go generated,
// and the functions returning an iterator, which are wrapped to return the
// plain function type (func(yield func(V) bool)) rather than iter.Seq[V]:
// the interpreter's iter.Seq is a source type that compiled code cannot
// name, and the plain type converts to it implicitly wherever Go's would.
// The maps are fresh on each call.
func Symbols() map[string]map[string]reflect.Value {
	out := map[string]map[string]reflect.Value{}
	add := func(tables map[string]map[string]reflect.Value) {
		for path, syms := range tables {
			if out[path] == nil {
				out[path] = map[string]reflect.Value{}
			}
			for name, v := range syms {
				out[path][name] = v
			}
		}
	}
	add(generated)
	add(iterators)
	return out
}

// iterators are the functions that return an iterator, wrapped.
var iterators = map[string]map[string]reflect.Value{
	"bytes/bytes": {
		"FieldsFuncSeq": reflect.ValueOf(func(s []byte, f func(rune) bool) func(yield func([]byte) bool) {
			return bytes.FieldsFuncSeq(s, f)
		}),
		"FieldsSeq":     reflect.ValueOf(func(s []byte) func(yield func([]byte) bool) { return bytes.FieldsSeq(s) }),
		"Lines":         reflect.ValueOf(func(s []byte) func(yield func([]byte) bool) { return bytes.Lines(s) }),
		"SplitAfterSeq": reflect.ValueOf(func(s, sep []byte) func(yield func([]byte) bool) { return bytes.SplitAfterSeq(s, sep) }),
		"SplitSeq":      reflect.ValueOf(func(s, sep []byte) func(yield func([]byte) bool) { return bytes.SplitSeq(s, sep) }),
	},
	"go/ast/ast": {
		"Preorder": reflect.ValueOf(func(root ast.Node) func(yield func(ast.Node) bool) { return ast.Preorder(root) }),
	},
	"strings/strings": {
		"FieldsFuncSeq": reflect.ValueOf(func(s string, f func(rune) bool) func(yield func(string) bool) {
			return strings.FieldsFuncSeq(s, f)
		}),
		"FieldsSeq":     reflect.ValueOf(func(s string) func(yield func(string) bool) { return strings.FieldsSeq(s) }),
		"Lines":         reflect.ValueOf(func(s string) func(yield func(string) bool) { return strings.Lines(s) }),
		"SplitAfterSeq": reflect.ValueOf(func(s, sep string) func(yield func(string) bool) { return strings.SplitAfterSeq(s, sep) }),
		"SplitSeq":      reflect.ValueOf(func(s, sep string) func(yield func(string) bool) { return strings.SplitSeq(s, sep) }),
	},
}
