package cell

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// yaegi v0.16.1 predates Go 1.22's range over an integer, the way modern Go
// writes a counted loop, and fails on it with "nil type". Before a chunk is
// compiled, rangeOverInt rewrites each such loop header in place:
//
//	for i := range n {   becomes   for i, ppfEnd0 := (n)*0, (n); i < ppfEnd0; i++ {
//
// which keeps the loop variable's type (that of n), evaluates the bound
// once as range does, and keeps every line where it was, so that errors
// still point at the cell's lines. A loop is rewritten only when its
// operand is known to be an integer: a literal, len or cap, an expression
// whose type go/types finds from the chunk alone, or a side-effect-free
// expression (names, fields, arithmetic) over variables of earlier cells
// whose current value the interpreter says is an integer.

// rangeOverInt returns src with the headers of its loops over integers
// rewritten; anything it cannot parse it returns unchanged.
func (e *Engine) rangeOverInt(ctx context.Context, src string, decl bool) string {
	if !strings.Contains(src, "range") {
		return src
	}
	prefix := "package p;"
	if !decl {
		prefix += "func _() {"
	}
	text := prefix + src
	if !decl {
		text += "\n}"
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "cell", text, 0)
	if err != nil {
		return src
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: noImporter{}, Error: func(error) {}} // earlier cells' names are unknown here: not an error
	conf.Check("p", fset, []*ast.File{file}, info)

	type edit struct {
		from, to int // byte offsets in src
		with     string
	}
	var edits []edit
	ast.Inspect(file, func(n ast.Node) bool {
		rs, ok := n.(*ast.RangeStmt)
		if !ok || rs.Value != nil || (rs.Key != nil && rs.Tok != token.DEFINE) || !e.isInteger(ctx, rs.X, info, fset, text) {
			return true
		}
		off := func(p token.Pos) int { return fset.Position(p).Offset - len(prefix) }
		bound := text[fset.Position(rs.X.Pos()).Offset:fset.Position(rs.X.End()).Offset]
		end := "ppfEnd" + strconv.Itoa(len(edits))
		from, v := off(rs.Range), "ppfI"+strconv.Itoa(len(edits))
		if rs.Key != nil {
			from, v = off(rs.Key.Pos()), rs.Key.(*ast.Ident).Name
		}
		edits = append(edits, edit{from, off(rs.X.End()),
			v + ", " + end + " := (" + bound + ")*0, (" + bound + "); " + v + " < " + end + "; " + v + "++"})
		return true
	})
	sort.Slice(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	for _, ed := range edits {
		src = src[:ed.from] + ed.with + src[ed.to:]
	}
	return src
}

// isInteger reports whether x, a range operand, is known to be an integer.
func (e *Engine) isInteger(ctx context.Context, x ast.Expr, info *types.Info, fset *token.FileSet, text string) bool {
	if tv, ok := info.Types[x]; ok && tv.Type != nil && tv.Type != types.Typ[types.Invalid] {
		b, ok := tv.Type.Underlying().(*types.Basic)
		return ok && b.Info()&types.IsInteger != 0
	}
	if call, ok := x.(*ast.CallExpr); ok {
		if f, ok := call.Fun.(*ast.Ident); ok && (f.Name == "len" || f.Name == "cap") && f.Obj == nil {
			return true
		}
	}
	if !pureOverEarlierCells(x) {
		return false
	}
	prog, err := e.compile(text[fset.Position(x.Pos()).Offset:fset.Position(x.End()).Offset])
	if err != nil {
		return false
	}
	v, err := e.in.ExecuteWithContext(ctx, prog)
	if err != nil || !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// pureOverEarlierCells reports whether evaluating x has no effect (no
// calls, receives or indexing) and reads only names not declared in the
// chunk itself, whose values the interpreter already holds.
func pureOverEarlierCells(x ast.Expr) bool {
	pure := true
	ast.Inspect(x, func(n ast.Node) bool {
		switch n := n.(type) {
		case nil, *ast.BasicLit, *ast.ParenExpr, *ast.BinaryExpr, *ast.SelectorExpr:
		case *ast.Ident:
			pure = pure && n.Obj == nil
		case *ast.UnaryExpr:
			pure = pure && n.Op != token.ARROW
		default:
			pure = false
		}
		return pure
	})
	return pure
}

// noImporter makes go/types see imported packages as missing; their
// names' types stay unknown, which isInteger treats as "ask elsewhere".
type noImporter struct{}

func (noImporter) Import(path string) (*types.Package, error) {
	return nil, errors.New("not imported here: " + path)
}
