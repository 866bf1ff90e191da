package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/ppfkit/ppf/kernel/cell/stdlibsrc"
)

// The standard library's compiled symbols that yaegi's tables (Go 1.22)
// lack join them before any engine copies them, so that the interpreter
// and the type checker both have them.
func init() {
	for path, syms := range stdlibsrc.Symbols() {
		if stdlib.Symbols[path] == nil {
			stdlib.Symbols[path] = map[string]reflect.Value{}
		}
		for name, v := range syms {
			if _, ok := stdlib.Symbols[path][name]; !ok {
				stdlib.Symbols[path][name] = v
			}
		}
	}
}

// genericSources are the generic standard packages the interpreter runs
// from source, by import path, for the type checker to see exactly what
// the interpreter has: stdlibsrc's files (package iter, and Go 1.26's maps
// and slices), which compileGenericSources compiles into the interpreter,
// and yaegi's copies of cmp, maps and slices (Go 1.22), less what
// stdlibsrc redeclares: a copy whose exported functions stdlibsrc all
// redeclares is left out (its unexported leftovers are unreachable), and
// otherwise the redeclared functions are cut out of it. The map is built
// once and shared: it must not be changed.
func genericSources() map[string][]string { return bundledSources() }

var bundledSources = sync.OnceValue(func() map[string][]string {
	files := stdlibsrc.Files()
	redeclared := map[string]map[string]bool{} // path -> functions stdlibsrc declares
	for _, f := range files {
		af, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Src, parser.SkipObjectResolution)
		if err != nil {
			continue // the type checker reports it
		}
		if redeclared[f.Path] == nil {
			redeclared[f.Path] = map[string]bool{}
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				redeclared[f.Path][fd.Name.Name] = true
			}
		}
	}
	out := map[string][]string{}
	for _, src := range generic.Sources {
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		path := af.Name.Name
		if src, ok := withoutFuncs(fset, af, src, redeclared[path]); ok {
			out[path] = append(out[path], src)
		}
	}
	for _, f := range files {
		out[f.Path] = append(out[f.Path], f.Src)
	}
	return out
})

// withoutFuncs returns src less its top-level functions named in drop
// (with their doc comments), cut out of the text, and false if drop names
// all its exported functions.
func withoutFuncs(fset *token.FileSet, f *ast.File, src string, drop map[string]bool) (string, bool) {
	if len(drop) == 0 {
		return src, true
	}
	tf := fset.File(f.Pos())
	out, last, kept := "", 0, false
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || !drop[fd.Name.Name] {
			kept = kept || ok && fd.Recv == nil && fd.Name.IsExported()
			continue
		}
		from := fd.Pos()
		if fd.Doc != nil {
			from = fd.Doc.Pos()
		}
		start, end := tf.Offset(from), tf.Offset(fd.End())
		out += src[last:start]
		last = end
	}
	return out + src[last:], kept
}

// compileGenericSources compiles stdlibsrc's files into the interpreter,
// over yaegi's copies of cmp, maps and slices, which Use(stdlib.Symbols)
// compiled: call it right after that.
func compileGenericSources(in *interp.Interpreter) error {
	srcs, err := interpSources()
	if err != nil {
		return err
	}
	for i, file := range stdlibsrc.Files() {
		if _, err := in.Compile(srcs[i]); err != nil {
			return fmt.Errorf("compiling the bundled source %s: %w", file.Name, err)
		}
	}
	return nil
}

// interpSources are stdlibsrc's files as the interpreter must see them.
// yaegi keeps one import table per package for all the sources compiled
// without a file name, and refuses a second import of a package it has
// symbols for (cmp, for one, as yaegi's copy of slices imports it): such
// imports become blank imports, and the name resolves through the first.
var interpSources = sync.OnceValues(func() ([]string, error) {
	imported := map[string]map[string]bool{} // package -> import paths its sources have
	note := func(f *ast.File) {
		if imported[f.Name.Name] == nil {
			imported[f.Name.Name] = map[string]bool{}
		}
		for _, is := range f.Imports {
			if p, err := strconv.Unquote(is.Path.Value); err == nil {
				imported[f.Name.Name][p] = true
			}
		}
	}
	for _, src := range generic.Sources {
		if f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly); err == nil {
			note(f)
		}
	}
	var out []string
	for _, file := range stdlibsrc.Files() {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file.Name, file.Src, parser.ImportsOnly)
		if err != nil {
			return nil, fmt.Errorf("bundled source %s: %w", file.Name, err)
		}
		src, last := "", 0
		tf := fset.File(f.Pos())
		for _, is := range f.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil || is.Name != nil || !imported[f.Name.Name][p] {
				continue
			}
			start, end := tf.Offset(is.Pos()), tf.Offset(is.End())
			src += file.Src[last:start] + "_ " + is.Path.Value
			last = end
		}
		out = append(out, src+file.Src[last:])
		note(f)
	}
	return out, nil
})
