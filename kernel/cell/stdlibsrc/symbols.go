package stdlibsrc

import (
	"bytes"
	"go/ast"
	"reflect"
	"slices"
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
	add(compiledHelpers)
	return out
}

// CompiledPath is the import path of the compiled helpers that the
// sources call. No Go package has this path; the symbol tables make it
// importable.
const CompiledPath = "github.com/ppfkit/ppf/kernel/cell/stdlibsrc/compiled"

var compiledHelpers = map[string]map[string]reflect.Value{
	CompiledPath + "/compiled": {
		// Slice panics as s[i:j] does for a slice s of length l and
		// capacity c: the sources' bounds checks are compiled, so that
		// they panic with Go's runtime errors (a slice expression in
		// yaegi panics with reflect's message, and no runtime.Error).
		"Slice": reflect.ValueOf(func(l, c, i, j int) { _ = make([]struct{}, l, c)[i:j] }),
		// Slice3 panics as s[i:j:k] does.
		"Slice3": reflect.ValueOf(func(l, c, i, j, k int) { _ = make([]struct{}, l, c)[i:j:k] }),
		// Sort sorts x with Go's slices.Sort and returns true if x is a
		// slice of a predeclared ordered type; it returns false, and does
		// nothing, otherwise. The interpreted sort is some 500 times
		// slower.
		"Sort": reflect.ValueOf(sortBasic),
	},
}

func sortBasic(x any) bool {
	switch x := x.(type) {
	case []int:
		slices.Sort(x)
	case []int8:
		slices.Sort(x)
	case []int16:
		slices.Sort(x)
	case []int32:
		slices.Sort(x)
	case []int64:
		slices.Sort(x)
	case []uint:
		slices.Sort(x)
	case []uint8:
		slices.Sort(x)
	case []uint16:
		slices.Sort(x)
	case []uint32:
		slices.Sort(x)
	case []uint64:
		slices.Sort(x)
	case []uintptr:
		slices.Sort(x)
	case []float32:
		slices.Sort(x)
	case []float64:
		slices.Sort(x)
	case []string:
		slices.Sort(x)
	default:
		return false
	}
	return true
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
