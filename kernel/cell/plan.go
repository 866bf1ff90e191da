package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A plan is what running a cell means once it type-checks: the
// interpreter's source for its declarations and for its statements, and
// the session as it will be if both compile.
type plan struct {
	decls   string   // imports, declarations, new variables
	body    string   // "func _ppfcell() { ... }", lines aligned with the cell's
	results []string // interpreter variables holding the values to show
	// printLike results, (int, error), are shown only when the error is not nil.
	printLike bool
	// resultMethods are the methods of a single result's static type (nil:
	// an interface, any may be there).
	resultMethods map[string]bool
	next          *session
	notices       []string // what the cell did to the session besides running
	// freed are interpreter variables the session no longer names and no
	// closure holds: zeroed after the cell so their values can be collected.
	freed []string
}

// cellFunc is the function a cell's statements run in.
const cellFunc = "_ppfcell"

// refuse is a cell the kernel will not run: a compile error (Name
// "CompileError") or something the interpreter cannot run faithfully
// ("Unsupported"), with the lines it concerns.
func refuse(name string, lines ...string) *Error {
	msg := strings.Join(lines, "\n")
	tb := []string{name + ":"}
	for _, l := range strings.Split(msg, "\n") {
		tb = append(tb, "    "+l)
	}
	return &Error{Name: name, Value: msg, Traceback: tb}
}

// newDecl is a declaration the running cell makes.
type newDecl struct {
	decl
	node ast.Decl
}

// cellDecls lists the declarations of the cell's declaration file, one
// decl per type spec, function, method, or const group.
func cellDecls(f *ast.File, text string, fset *token.FileSet, cell int) ([]*newDecl, error) {
	var out []*newDecl
	src := func(from, to token.Pos) (string, position) {
		a, b := fset.PositionFor(from, false).Offset, fset.PositionFor(to, false).Offset
		p := fset.Position(from)
		return text[a:b], position{cell, p.Line, p.Column}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			s, pos := src(d.Pos(), d.End())
			nd := &newDecl{decl: decl{src: s, origin: pos}, node: d}
			if d.Recv == nil {
				if d.Name.Name == "init" {
					return nil, fmt.Errorf("line %d: func init is not supported in a cell: write its statements in the cell, they run once when it runs", pos.line)
				}
				nd.names = []string{d.Name.Name}
			} else {
				nd.recv = recvBase(d.Recv.List[0].Type)
				nd.names = []string{nd.recv + "." + d.Name.Name}
			}
			out = append(out, nd)
		case *ast.GenDecl:
			switch d.Tok {
			case token.IMPORT:
				continue
			case token.TYPE:
				for _, spec := range d.Specs {
					ts := spec.(*ast.TypeSpec)
					s, pos := src(ts.Pos(), ts.End())
					out = append(out, &newDecl{decl: decl{names: []string{ts.Name.Name}, src: s, origin: pos, isType: true}, node: d})
				}
			case token.CONST:
				s, pos := src(d.Pos(), d.End())
				nd := &newDecl{decl: decl{src: s, origin: pos}, node: d}
				for _, spec := range d.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if n.Name != "_" {
							nd.names = append(nd.names, n.Name)
						}
					}
				}
				out = append(out, nd)
			}
		}
	}
	for _, d := range out {
		for _, n := range d.names {
			if reservedName(strings.TrimPrefix(n, d.recv+".")) {
				return nil, fmt.Errorf("line %d: the name %s is reserved for the kernel: choose another", d.origin.line, n)
			}
		}
	}
	return out, nil
}

// recvBase is the base type name of a method receiver: T for T, *T, T[K].
func recvBase(x ast.Expr) string {
	for {
		switch t := x.(type) {
		case *ast.StarExpr:
			x = t.X
		case *ast.ParenExpr:
			x = t.X
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// typeSpeller writes types as Go source: with the session's import names,
// and the cell package's names through rename.
type typeSpeller struct {
	main    *types.Package
	names   map[string]string // import path -> name to use
	hidden  map[string]string // import path -> kernel-made name, added as needed
	rename  func(string) string
	invalid string // set when a type cannot be written
}

var mainRef = regexp.MustCompile("\x00\\.([\\pL_][\\pL\\pN_]*)")

func (sp *typeSpeller) spell(t types.Type) string {
	s := types.TypeString(t, func(p *types.Package) string {
		if p == sp.main {
			return "\x00"
		}
		if n, ok := sp.names[p.Path()]; ok {
			return n
		}
		if n, ok := sp.hidden[p.Path()]; ok {
			return n
		}
		n := "_ppfimp_" + strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(p.Path())
		sp.hidden[p.Path()] = n
		return n
	})
	s = mainRef.ReplaceAllStringFunc(s, func(m string) string { return sp.rename(m[2:]) })
	// Unexported names of other packages, and internal packages, cannot be
	// written in a cell.
	var bad string
	walkType(t, false, func(t types.Type) {
		if n, ok := t.(*types.Named); ok && bad == "" {
			o := n.Obj()
			if o.Pkg() != nil && o.Pkg() != sp.main && (!o.Exported() || strings.Contains(o.Pkg().Path(), "internal")) {
				bad = o.Pkg().Path() + "." + o.Name()
			}
		}
	})
	if bad != "" && sp.invalid == "" {
		sp.invalid = bad
	}
	return s
}

// parseImports reads the cell's import declarations.
func parseImports(declText string) ([]*ast.ImportSpec, *token.FileSet, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", "package main"+lineDirective(cellFile, 1, 1)+declText, parser.ImportsOnly)
	if err != nil {
		return nil, nil, syntaxError(err)
	}
	return f.Imports, fset, nil
}

// importLinesExcept returns import lines for names, leaving out skip.
func importLinesExcept(imports map[string]string, skip map[string]string) []string {
	var out []string
	for n, p := range imports {
		if _, ok := skip[n]; !ok {
			out = append(out, n+" "+strconv.Quote(p))
		}
	}
	sort.Strings(out)
	return out
}

// sessionText lays out the declarations ds as one file, each placed by a
// //line comment that names its index in ds.
func sessionText(imports []string, ds []*decl) string {
	var b strings.Builder
	b.WriteString(header(imports))
	for i, d := range ds {
		if d.isType {
			b.WriteString("type") // src is the spec alone: the type keyword may be a group's
		}
		b.WriteString(lineDirective("decl#"+strconv.Itoa(i), d.origin.line, d.origin.col))
		b.WriteString(d.src + "\n")
	}
	return b.String()
}

// declIndex reads back the index a //line file name gives.
func declIndex(file string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(file, "decl#"))
	if err != nil || !strings.HasPrefix(file, "decl#") {
		return -1
	}
	return n
}

// what describes a declaration for messages: "func show (cell 3)".
func (d *decl) what() string {
	kind := "func"
	switch {
	case d.isVar:
		kind = "variable"
	case d.isType:
		kind = "type"
	case strings.HasPrefix(strings.TrimSpace(d.src), "const"):
		kind = "const"
	case d.recv != "":
		kind = "method"
	}
	return fmt.Sprintf("%s %s (cell %d)", kind, strings.Join(d.names, ", "), d.origin.cell)
}
