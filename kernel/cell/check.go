package cell

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A cell is checked in two passes of go/types, both with the Go 1.26
// rules:
//
//  1. the session's declarations (minus those the cell redefines), the
//     cell's declarations, and the cell's statements as the body of a
//     function: this is the cell as the compiler sees it, where a
//     top-level := is a new variable that shadows an earlier cell's;
//  2. the session as it will be after the cell: its declarations, the
//     cell's, and every variable the cell defines at top level, with the
//     type pass 1 found. A redefinition that breaks a function of an
//     earlier cell fails here, before anything runs.
//
// Each source is laid out with //line comments, so positions are the
// cells' own lines.

// goVersion is the language version cells are checked against.
const goVersion = "go1.26"

// cellFile is the file name positions in the running cell get.
const cellFile = "cell"

// parsedCell is a cell cut into its declarations and its statements.
type parsedCell struct {
	code       string
	declText   string // the cell with everything but imports and declarations blanked
	stmtText   string // the cell with everything but statements blanked
	imports    []*ast.ImportSpec
	hasStmts   bool
	lastIsExpr bool
}

// blank replaces every byte but newlines in s[from:to] with a space.
func blank(b []byte, from, to int) {
	for i := from; i < to; i++ {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
}

// isVarItem reports whether a top-level item is a var declaration, which
// the kernel runs as a statement, in order with the cell's others.
func isVarItem(text string) bool {
	t := strings.TrimLeft(text, " \t\n")
	return strings.HasPrefix(t, "var") && (len(t) == 3 || !isIdent(rune(t[3])))
}

// cut splits a cell into its declaration text and its statement text.
func cut(code string) (*parsedCell, error) {
	items, err := scanItems(code)
	if err != nil {
		return nil, err
	}
	decl, stmt := []byte(code), []byte(code)
	pc := &parsedCell{code: code}
	last := 0
	for _, it := range items {
		text := code[it.start:it.end]
		if it.decl && !isVarItem(text) {
			blank(stmt, last, it.end)
		} else {
			blank(decl, last, it.end)
			pc.hasStmts = true
		}
		last = it.end
	}
	blank(decl, last, len(code))
	blank(stmt, last, len(code))
	pc.declText, pc.stmtText = string(decl), string(stmt)
	return pc, nil
}

// syntaxError turns the parser's errors into a CompileError.
func syntaxError(err error) error {
	var list scanner.ErrorList
	if errors.As(err, &list) {
		var msgs []string
		for _, e := range list {
			msgs = append(msgs, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg))
		}
		if len(msgs) > 10 {
			msgs = append(msgs[:10], "(and more)")
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	return err
}

// header is the start of every file the checker sees: the package
// clause and imports; the text after it is placed with //line.
func header(imports []string) string {
	var b strings.Builder
	b.WriteString("package main\n")
	for _, l := range imports {
		b.WriteString("import " + l + "\n")
	}
	return b.String()
}

// lineDirective places what follows at line:col of file.
func lineDirective(file string, line, col int) string {
	return fmt.Sprintf("\n//line %s:%d:%d\n", file, line, col)
}

// checkResult is one go/types pass over a set of files.
type checkResult struct {
	fset  *token.FileSet
	files []*ast.File
	texts []string // each file's source
	pkg   *types.Package
	info  *types.Info
	errs  []types.Error
}

func newInfo() *types.Info {
	return &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Implicits:  map[ast.Node]types.Object{},
		Instances:  map[*ast.Ident]types.Instance{},
	}
}

// typeCheck parses and checks the given file texts as package main. A
// syntax error is returned as an error; type errors are in the result.
func typeCheck(imp types.Importer, texts []string) (*checkResult, error) {
	r := &checkResult{fset: token.NewFileSet(), texts: texts, info: newInfo()}
	for i, text := range texts {
		f, err := parser.ParseFile(r.fset, "f"+strconv.Itoa(i), text, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return nil, syntaxError(err)
		}
		r.files = append(r.files, f)
	}
	conf := types.Config{
		GoVersion: goVersion,
		Importer:  imp,
		Error:     func(err error) { r.errs = append(r.errs, err.(types.Error)) },
	}
	r.pkg, _ = conf.Check("main", r.fset, r.files, r.info)
	return r, nil
}

// offset is the byte offset of p in its file's text.
func (r *checkResult) offset(p token.Pos) int { return r.fset.PositionFor(p, false).Offset }

// fileIndex is the index of the file that holds p.
func (r *checkResult) fileIndex(p token.Pos) int {
	for i, f := range r.files {
		if f.FileStart <= p && p <= f.FileEnd {
			return i
		}
	}
	return -1
}

// declared returns the package-level objects a set of nodes refers to,
// by name, with methods counted as uses of their receiver's type.
func (r *checkResult) refs(n ast.Node) map[string]bool {
	out := map[string]bool{}
	scope := r.pkg.Scope()
	ast.Inspect(n, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := r.info.Uses[id]
		if obj == nil {
			return true
		}
		if obj.Parent() == scope {
			out[obj.Name()] = true
		}
		if f, ok := obj.(*types.Func); ok {
			if named := recvNamed(f); named != nil && named.Obj().Pkg() == r.pkg {
				out[named.Obj().Name()] = true
			}
		}
		return true
	})
	return out
}

// recvNamed returns the named type of a method's receiver, or nil.
func recvNamed(f *types.Func) *types.Named {
	sig, ok := f.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return nil
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, _ := types.Unalias(t).(*types.Named)
	if n != nil {
		n = n.Origin()
	}
	return n
}

// describe names where a position is: "line 3" in the running cell, or
// the earlier declaration it is in.
func describe(pos token.Position, where func(file string) string) string {
	if pos.Filename == cellFile {
		return fmt.Sprintf("line %d:%d", pos.Line, pos.Column)
	}
	return where(pos.Filename) + fmt.Sprintf(", its line %d", pos.Line)
}

// sortErrors orders errors by cell, line and column, the running cell's
// last.
func sortErrors(errs []types.Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Fset.Position(errs[i].Pos), errs[j].Fset.Position(errs[j].Pos)
		if a.Filename != b.Filename {
			return a.Filename != cellFile
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// unusedImportRe matches go/types' unused-import errors: a notebook
// imports in one cell what later cells use.
var unusedImportRe = regexp.MustCompile(`^"[^"]+" imported (as \S+ )?and not used$`)

func unusedImport(msg string) bool { return unusedImportRe.MatchString(msg) }
