package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// Rewrites and refusals for places where yaegi v0.16.1 runs valid Go
// differently from the compiler, found by the differential corpus
// (testdata/corpus): deferred calls, closures handed to compiled code
// inside loops, and values of cell types handed to compiled code.

// slice checks the bounds of s[lo:hi] (and s[lo:hi:max]) before the
// interpreter slices, for Go's messages, when the operands are plain.
func (rw *rewriter) slice(se *ast.SliceExpr) {
	xt := rw.r.info.Types[se.X].Type
	if xt == nil || !pureOperand(se.X) {
		return
	}
	capFn := "cap"
	switch u := xt.Underlying().(type) {
	case *types.Slice:
	case *types.Basic:
		if u.Info()&types.IsString == 0 {
			return
		}
		capFn = "len"
	case *types.Pointer:
		if _, ok := u.Elem().Underlying().(*types.Array); !ok {
			return
		}
	default:
		return // arrays must be addressable; leave them
	}
	for _, x := range []ast.Expr{se.Low, se.High, se.Max} {
		if x != nil && !pureOperand(x) && rw.r.info.Types[x].Value == nil {
			return
		}
	}
	text := func(inner func(int, int) string, x ast.Expr, def string) string {
		if x == nil {
			return def
		}
		return "int(" + inner(rw.off(x.Pos()), rw.off(x.End())) + ")"
	}
	xFrom, xTo := rw.off(se.X.Pos()), rw.off(se.X.End())
	rw.ed.replaceFunc(rw.off(se.Lbrack)+1, rw.off(se.Rbrack), func(inner func(int, int) string) string {
		x := inner(xFrom, xTo)
		lo, hi := text(inner, se.Low, "0"), text(inner, se.High, "-1")
		max := text(inner, se.Max, "-1")
		var parts []string
		parts = append(parts, fmt.Sprintf("%s.Slice(%s, %s, %s, %s(%s), len(%s), %v)", runtimePkg, lo, hi, max, capFn, x, x, capFn == "len"))
		if se.High != nil {
			parts = append(parts, inner(rw.off(se.High.Pos()), rw.off(se.High.End())))
		} else {
			parts = append(parts, "")
		}
		if se.Max != nil {
			parts = append(parts, inner(rw.off(se.Max.Pos()), rw.off(se.Max.End())))
		}
		return strings.Join(parts, ":")
	})
}

// panicStmt notes, for panic(v) with v of a cell type with an Error or
// String method, the message Go prints, which the interpreter cannot
// compute outside the cell.
func (rw *rewriter) panicStmt(es *ast.ExprStmt) {
	call, ok := es.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return
	}
	if b, ok := rw.r.info.Uses[id].(*types.Builtin); !ok || b.Name() != "panic" {
		return
	}
	t := rw.r.info.Types[call.Args[0]].Type
	n := rw.cellNamed(t)
	if n == nil {
		if p, ok := t.(*types.Pointer); ok {
			n = rw.cellNamed(p.Elem())
		}
	}
	if n == nil {
		return
	}
	ms := types.NewMethodSet(t)
	method := ""
	for _, m := range []string{"Error", "String"} {
		if ms.Lookup(rw.r.pkg, m) != nil {
			method = m
			break
		}
	}
	if method == "" {
		return
	}
	v := rw.temp("V")
	aFrom, aTo := rw.off(call.Args[0].Pos()), rw.off(call.Args[0].End())
	rw.ed.replaceFunc(rw.off(es.Pos()), rw.off(es.End()), func(inner func(int, int) string) string {
		return fmt.Sprintf("{ %s := %s; %s.PanicMessage(%s, %s.%s()); panic(%s) }", v, inner(aFrom, aTo), runtimePkg, v, v, method, v)
	})
}

// typeAssert refuses a type assertion (or type switch case) to a cell
// type whose underlying type another cell type shares: the interpreter
// tells such types apart by shape only.
func (rw *rewriter) typeAssert(pos token.Pos, t types.Type) {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n := rw.cellNamed(t)
	if n == nil {
		return
	}
	scope := rw.r.pkg.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || tn == n.Obj() || tn.IsAlias() {
			continue
		}
		if types.Identical(tn.Type().Underlying(), n.Underlying()) {
			rw.refuse(pos, "the interpreter cannot tell %s from %s (same underlying type) in a type assertion or switch: give them different fields, or compare a method's result", n.Obj().Name(), name)
			return
		}
	}
}

// returnStmt refuses returning a variable of a cell pointer type as an
// interface: a nil one compares equal to nil in the interpreter, unlike
// Go, where the interface holds a typed nil.
func (rw *rewriter) returnStmt(rs *ast.ReturnStmt, stack []ast.Node) {
	sig := rw.enclosingSig(stack)
	if sig == nil || len(rs.Results) != sig.Results().Len() {
		return
	}
	for i, x := range rs.Results {
		if !types.IsInterface(sig.Results().At(i).Type()) {
			continue
		}
		p, ok := rw.r.info.Types[x].Type.(*types.Pointer)
		if !ok || rw.cellNamed(p.Elem()) == nil {
			continue
		}
		switch x := ast.Unparen(x).(type) {
		case *ast.UnaryExpr:
			if x.Op == token.AND {
				continue
			}
		case *ast.CallExpr:
			if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "new" {
				continue
			}
		}
		rw.refuse(rs.Pos(), "returning a %s as an interface: when it is nil, the interpreter returns a nil interface, where Go returns a non-nil interface holding a nil pointer; return nil or &T{...} explicitly", p)
		return
	}
}

// enclosingSig is the signature of the function the top of stack is in.
func (rw *rewriter) enclosingSig(stack []ast.Node) *types.Signature {
	for i := len(stack) - 1; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			s, _ := rw.r.info.Types[f].Type.(*types.Signature)
			return s
		case *ast.FuncDecl:
			if o := rw.r.info.Defs[f.Name]; o != nil {
				s, _ := o.Type().(*types.Signature)
				return s
			}
			return nil
		}
	}
	return nil
}

// commaOkAssert guards "v, ok := x.(I)" for an interface I against a nil
// x, on which the interpreter panics where Go gives ok == false.
func (rw *rewriter) commaOkAssert(ta *ast.TypeAssertExpr, stack []ast.Node) {
	it := rw.r.info.Types[ta.Type].Type
	if !types.IsInterface(it) || len(stack) < 2 {
		return
	}
	commaOk := false
	switch p := stack[len(stack)-2].(type) {
	case *ast.AssignStmt:
		commaOk = len(p.Lhs) == 2 && len(p.Rhs) == 1
	case *ast.ValueSpec:
		commaOk = len(p.Names) == 2 && len(p.Values) == 1
	}
	if !commaOk {
		return
	}
	xt, t := rw.spell(rw.r.info.Types[ta.X].Type), rw.spell(it)
	xFrom, xTo := rw.off(ta.X.Pos()), rw.off(ta.X.End())
	tFrom, tTo := rw.off(ta.Type.Pos()), rw.off(ta.Type.End())
	rw.ed.replaceFunc(rw.off(ta.Pos()), rw.off(ta.End()), func(inner func(int, int) string) string {
		return fmt.Sprintf("func(x %s) (%s, bool) { if x == nil { return nil, false }; v, ok := x.(%s); return v, ok }(%s)", xt, t, inner(tFrom, tTo), inner(xFrom, xTo))
	})
}

// builtinCall writes Go 1.21's min, max and clear, which yaegi v0.16.1
// lacks, as the loops they stand for.
func (rw *rewriter) builtinCall(call *ast.CallExpr) {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return
	}
	b, ok := rw.r.info.Uses[id].(*types.Builtin)
	if !ok {
		return
	}
	from, to := rw.off(call.Pos()), rw.off(call.End())
	switch b.Name() {
	case "min", "max":
		tv := rw.r.info.Types[call]
		if tv.Value != nil {
			rw.ed.replace(from, to, "("+constantSource(tv.Value)+")")
			return
		}
		t := rw.spell(types.Default(tv.Type))
		op := "<"
		if b.Name() == "max" {
			op = ">"
		}
		// NaN wins, as in Go: once m is NaN no comparison replaces it.
		rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
			var args []string
			for _, a := range call.Args {
				args = append(args, inner(rw.off(a.Pos()), rw.off(a.End())))
			}
			return fmt.Sprintf("func(v ...%s) %s { m := v[0]; for _, x := range v[1:] { if x %s m || x != x { m = x } }; return m }(%s)", t, t, op, strings.Join(args, ", "))
		})
	case "clear":
		if len(call.Args) != 1 {
			return
		}
		a := call.Args[0]
		at := rw.r.info.Types[a].Type
		aFrom, aTo := rw.off(a.Pos()), rw.off(a.End())
		switch u := at.Underlying().(type) {
		case *types.Map:
			rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
				return fmt.Sprintf("func(m %s) { for k := range m { delete(m, k) } }(%s)", rw.spell(at), inner(aFrom, aTo))
			})
		case *types.Slice:
			rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
				return fmt.Sprintf("func(s %s) { var zero %s; for i := range s { s[i] = zero } }(%s)", rw.spell(at), rw.spell(u.Elem()), inner(aFrom, aTo))
			})
		}
	}
}

// constantSource writes a constant as a literal of the same kind.
func constantSource(v constant.Value) string {
	switch v.Kind() {
	case constant.String:
		return strconv.Quote(constant.StringVal(v))
	case constant.Float:
		f, exact := constant.Float64Val(v)
		if n, d := constant.Num(v), constant.Denom(v); !exact && n.Kind() == constant.Int && d.Kind() == constant.Int {
			// Untyped constants are exact: 1.0/3 stays a third.
			return "(" + n.ExactString() + ".0/" + d.ExactString() + ")"
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s
	}
	return v.ExactString()
}
