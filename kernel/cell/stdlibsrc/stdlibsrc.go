// Package stdlibsrc holds what the kernel's interpreter, yaegi v0.16.1,
// lacks of the Go 1.26 standard library, yaegi's own tables and generic
// sources stopping at Go 1.22.
//
// Files gives Go source for the generic packages: iter, and slices and
// maps whole. The kernel compiles each file into the interpreter after
// yaegi's copies of cmp, maps and slices, redeclaring what those declare,
// and gives the type checker these files in place of yaegi's (see the
// kernel's generic.go), so that both see the same functions. The files are
// Go's code, adapted to what yaegi runs correctly; each says how at its
// top. In short: calls of generic functions carry explicit type arguments,
// two or more (yaegi infers type arguments poorly, and cannot instantiate
// a function of one type parameter with a defined type from within a
// generic function, so helpers take the slice type too); generic
// functions call no non-generic interpreted function (yaegi then calls the
// wrong one); loops over a sequence call it with the body as the yield
// function (yaegi cannot range over a function); the builtins min, max and
// clear, which yaegi lacks, are spelled out; iter.Pull runs the sequence
// in a goroutine, as yaegi has no coroutines; bounds checks and the sort
// of predeclared types call compiled helpers.
//
// Symbols gives symbol tables for the compiled packages: their functions,
// types, variables and constants newer than yaegi's tables, and those
// compiled helpers.
package stdlibsrc

import (
	"embed"
	"go/parser"
	"go/token"
)

//go:embed *.go.txt
var files embed.FS

// order is the order the files must be compiled in: a package before the
// packages that import it, and within a package a type before the files
// whose signatures use it (yaegi resolves those file by file; bodies of
// generic functions are compiled when instantiated, in any order).
var order = []string{
	"iter.go.txt",
	"slices.go.txt",
	"slices_sort.go.txt",
	"slices_zsort.go.txt",
	"slices_iter.go.txt",
	"maps.go.txt",
	"maps_iter.go.txt",
}

// File is one source file of a package.
type File struct {
	Name string // the file's name here, for messages
	Path string // the import path of its package (its name: all are top-level)
	Src  string
}

// Files returns the files, in the order the interpreter must compile them.
func Files() []File {
	out := make([]File, 0, len(order))
	for _, name := range order {
		b, err := files.ReadFile(name)
		if err != nil {
			panic("stdlibsrc: " + err.Error()) // listed but not embedded: a bug
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, b, parser.PackageClauseOnly)
		if err != nil {
			panic("stdlibsrc: " + err.Error())
		}
		out = append(out, File{Name: name, Path: f.Name.Name, Src: string(b)})
	}
	return out
}
