package cell

import (
	"strconv"
	"strings"
)

// The session is what earlier cells left behind, kept as Go source so that
// every new cell is type-checked against it with go/types, as one package
// (see check.go):
//
//   - imports, by name, accumulated over cells (a notebook imports once);
//   - declarations (types, functions, methods, constants) as their text,
//     with where they came from;
//   - variables defined at a cell's top level (by := or var), as
//     declarations "var x T" with the type go/types found.
//
// The interpreter never sees a name twice. A name's first definition keeps
// the name; each redefinition gets a new internal name (T, T_ppfv2, ...)
// and every declaration that refers to a redefined name is compiled again
// against the new one. So a later cell sees the new type while values of
// the old type are never confused with it, and nothing a cell declares
// changes unless the whole cell type-checks and compiles.

// A decl is one top-level declaration of an earlier cell.
type decl struct {
	names []string // what it declares: "T", "f", "c", or "T.M" for a method
	src   string   // its text, as written in the cell (for vars: "var x T", spelled by the kernel)
	// origin is where src starts in its cell: cell number, line, column.
	origin position
	isVar  bool
	isType bool   // a type declaration
	recv   string // for a method, its receiver's base type name
	// underlying is, for a type, its underlying type as source: a variable
	// of the type survives the type's redefinition when this is unchanged.
	underlying string
}

// position is a place in a numbered cell.
type position struct{ cell, line, col int }

// session holds the declarations, imports and variables of the cells run
// so far, and the interpreter's name for each.
type session struct {
	decls   []*decl           // in the order they were first made
	imports map[string]string // import name -> path, as the cells wrote them
	hidden  map[string]string // kernel-made import name (_ppfimp_x) -> path
	version map[string]int    // name -> how many times it was defined
	// captured marks variables that a function literal of some cell
	// refers to: redefining one makes a new variable, so that the closure
	// keeps the one it captured, as in Go.
	captured map[string]bool
	// yaegiImports are the imports the interpreter has seen, by name.
	yaegiImports map[string]string
}

func newSession() *session {
	return &session{
		imports:      map[string]string{},
		hidden:       map[string]string{},
		version:      map[string]int{},
		captured:     map[string]bool{},
		yaegiImports: map[string]string{},
	}
}

// internal is the interpreter's name for a session name at version v.
func internal(name string, v int) string {
	if v <= 1 {
		return name
	}
	return name + "_ppfv" + strconv.Itoa(v)
}

// current is the interpreter's name for name as the session has it now.
func (s *session) current(name string) string { return internal(name, s.version[name]) }

// reservedName reports whether name is one the kernel uses for itself.
func reservedName(name string) bool {
	return strings.HasPrefix(name, "_ppf") || strings.Contains(name, "_ppfv")
}

// lookup returns the declaration that declares name, if any.
func (s *session) lookup(name string) *decl {
	for _, d := range s.decls {
		for _, n := range d.names {
			if n == name {
				return d
			}
		}
	}
	return nil
}
