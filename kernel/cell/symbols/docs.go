package symbols

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/format"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
)

// Docs maps an import path to the documentation of the package's exported
// names, for the kernel's help (shift-tab and "?name" cells): "" is the
// package's own, "Name" a function, type, constant or variable, and
// "Type.Name" a method or a struct field. An entry is the declaration, a
// blank line and the doc comment as plain text (the line and the comment
// are each left out when empty).
//
// The generated docs-*.go files fill it at init (docsgen.go writes them,
// one per package of Symbols, from the packages' sources), so that the
// kernel needs neither the Go toolchain nor the sources at run time. The
// standard library is not in it: the kernel reads those docs from GOROOT
// with PackageDocs, when there is one.
var Docs = map[string]map[string]string{}

// maxDeclLines bounds the declaration shown for a constant or variable,
// whose value may be a long composite literal (a table).
const maxDeclLines = 12

// PackageDocs reads the Go files of the package in dir that build on this
// platform and returns its documentation in the form Docs holds. The
// "builtin" package documents unexported names (len, append), which are
// kept for it alone.
func PackageDocs(dir, importPath string) (map[string]string, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("reading package %s: %w", importPath, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(append([]string(nil), bp.GoFiles...), bp.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing package %s: %w", importPath, err)
		}
		files = append(files, f)
	}
	var mode doc.Mode
	if importPath == "builtin" {
		mode = doc.AllDecls
	}
	p, err := doc.NewFromFiles(fset, files, importPath, mode)
	if err != nil {
		return nil, fmt.Errorf("reading the docs of package %s: %w", importPath, err)
	}
	w := &docWriter{fset: fset, pkg: p, out: map[string]string{}}
	w.out[""] = join(fmt.Sprintf("package %s // import %q", p.Name, importPath), w.text(p.Doc))
	w.values(p.Consts)
	w.values(p.Vars)
	w.funcs("", p.Funcs)
	for _, t := range p.Types {
		w.typ(t)
		w.values(t.Consts)
		w.values(t.Vars)
		w.funcs("", t.Funcs)
		w.funcs(t.Name+".", t.Methods)
	}
	return w.out, nil
}

// docWriter renders the entries of one package.
type docWriter struct {
	fset *token.FileSet
	pkg  *doc.Package
	out  map[string]string
}

// join puts a declaration and its doc text together, as Docs holds them.
func join(decl, text string) string {
	switch {
	case text == "":
		return decl
	case decl == "":
		return text
	}
	return decl + "\n\n" + text
}

// text renders a doc comment as plain text, links and lists resolved the
// way go doc shows them.
func (w *docWriter) text(comment string) string {
	return strings.TrimSpace(string(w.pkg.Text(comment)))
}

// node formats a declaration, with the comments attached to its nodes
// (field comments) and none of the file's other comments.
func (w *docWriter) node(n any) string {
	var b bytes.Buffer
	if err := format.Node(&b, w.fset, n); err != nil {
		return ""
	}
	return b.String()
}

func (w *docWriter) funcs(prefix string, fs []*doc.Func) {
	for _, f := range fs {
		d := *f.Decl
		d.Body, d.Doc = nil, nil
		w.out[prefix+f.Name] = join(w.node(&d), w.text(f.Doc))
	}
}

// values adds one entry per name of a const or var group: the name's own
// spec (its type carried down from the spec above when elided, as in an
// iota block), its comment, then the group's doc.
func (w *docWriter) values(vs []*doc.Value) {
	for _, v := range vs {
		var typ ast.Expr
		for _, s := range v.Decl.Specs {
			spec := s.(*ast.ValueSpec)
			if spec.Type != nil || len(spec.Values) > 0 {
				typ = spec.Type
			}
			comment := strings.TrimSpace(spec.Doc.Text() + "\n" + spec.Comment.Text())
			text := join(w.text(comment), w.text(v.Doc))
			for i, name := range spec.Names {
				if name.Name == "_" {
					continue
				}
				one := &ast.ValueSpec{Names: spec.Names, Type: spec.Type, Values: spec.Values}
				if len(spec.Names) == len(spec.Values) || len(spec.Values) == 0 {
					one.Names = []*ast.Ident{name}
					one.Type = typ
					if len(spec.Values) > 0 {
						one.Values = []ast.Expr{spec.Values[i]}
					}
				}
				decl := w.node(&ast.GenDecl{Tok: v.Decl.Tok, Specs: []ast.Spec{one}})
				w.out[name.Name] = join(clip(decl), text)
			}
		}
	}
}

// clip shortens a declaration to maxDeclLines lines.
func clip(decl string) string {
	lines := strings.Split(decl, "\n")
	if len(lines) <= maxDeclLines {
		return decl
	}
	return strings.Join(lines[:maxDeclLines-1], "\n") + "\n\t..."
}

// typ adds the entry of a type (its declaration, doc, and the signatures
// of its constructors and methods, as go doc lists them) and one per
// field of a struct and per method of an interface.
func (w *docWriter) typ(t *doc.Type) {
	var spec *ast.TypeSpec
	for _, s := range t.Decl.Specs {
		if ts := s.(*ast.TypeSpec); ts.Name.Name == t.Name {
			spec = ts
		}
	}
	if spec == nil {
		return
	}
	one := *spec
	one.Doc, one.Comment = nil, nil
	decl := w.node(&ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{&one}})
	// go/doc dropped the unexported fields and methods; the printer says
	// so inside the braces ("contains filtered or unexported fields").
	switch st := spec.Type.(type) {
	case *ast.StructType:
		w.fields(t.Name, st.Fields)
	case *ast.InterfaceType:
		w.ifaceMethods(t.Name, st.Methods)
	}
	var sigs []string
	for _, fs := range [][]*doc.Func{t.Funcs, t.Methods} {
		for _, f := range fs {
			d := *f.Decl
			d.Body, d.Doc = nil, nil
			sigs = append(sigs, w.node(&d))
		}
	}
	w.out[t.Name] = join(join(decl, w.text(t.Doc)), strings.Join(sigs, "\n"))
}

func (w *docWriter) fields(typeName string, fl *ast.FieldList) {
	for _, f := range fl.List {
		names := f.Names
		if len(names) == 0 { // embedded: named after its type
			if id := embeddedName(f.Type); id != nil {
				names = []*ast.Ident{id}
			}
		}
		text := w.text(strings.TrimSpace(f.Doc.Text() + "\n" + f.Comment.Text()))
		typ := w.node(f.Type)
		for _, n := range names {
			decl := n.Name + " " + typ
			if len(f.Names) == 0 {
				decl = typ + " (embedded)"
			}
			w.out[typeName+"."+n.Name] = join(decl, text)
		}
	}
}

func (w *docWriter) ifaceMethods(typeName string, fl *ast.FieldList) {
	for _, f := range fl.List {
		ft, ok := f.Type.(*ast.FuncType)
		if !ok || len(f.Names) == 0 {
			continue // an embedded interface or a type union
		}
		recv := &ast.FieldList{List: []*ast.Field{{Type: ast.NewIdent(typeName)}}}
		for _, n := range f.Names {
			decl := w.node(&ast.FuncDecl{Recv: recv, Name: n, Type: ft})
			text := w.text(strings.TrimSpace(f.Doc.Text() + "\n" + f.Comment.Text()))
			w.out[typeName+"."+n.Name] = join(decl, text)
		}
	}
}

// embeddedName is the field name of an embedded type: T, *T, pkg.T, T[P].
func embeddedName(x ast.Expr) *ast.Ident {
	for {
		switch t := x.(type) {
		case *ast.Ident:
			return t
		case *ast.StarExpr:
			x = t.X
		case *ast.SelectorExpr:
			return t.Sel
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		default:
			return nil
		}
	}
}
