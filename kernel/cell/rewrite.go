package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"
)

// The interpreter (yaegi v0.16.1) predates Go 1.22 and gets some Go wrong.
// Before it sees a cell, the cell's source is rewritten, with the types
// go/types found, into Go that it runs as the compiler would run the
// original, and what cannot be rewritten is refused by name:
//
//   - names of the session get their interpreter names (see session);
//   - loop variables a closure captures get a copy per iteration (Go 1.22);
//   - loops over integers become counted loops, and loops over functions
//     (iter.Seq) calls of the function with the body as yield;
//   - go statements recover a panic in the goroutine and report it to the
//     kernel, which would otherwise die;
//   - indexing checks its bounds first, so that the panic reads as Go's
//     ("index out of range [5] with length 3") instead of reflect's;
//   - %T and %#v of values of cell types, whose type names the interpreter
//     does not know, are refused.

// runtimePkg is the import name of the kernel's run-time helpers in cells.
const runtimePkg = "_ppfrt"

// rewriter rewrites the declarations and statements of one checked file.
type rewriter struct {
	r    *checkResult
	ed   *editor
	base int // offset of the file's text in r.texts
	// name returns the interpreter's name for an object, if it has one
	// of its own.
	name     func(types.Object) (string, bool)
	spell    func(types.Type) string
	refusals []string
	captured map[types.Object]bool // objects a function literal refers to
	tmp      int
}

func (rw *rewriter) off(p token.Pos) int { return rw.r.offset(p) }

func (rw *rewriter) line(p token.Pos) int { return rw.r.fset.Position(p).Line }

func (rw *rewriter) refuse(p token.Pos, format string, args ...any) {
	rw.refusals = append(rw.refusals, fmt.Sprintf("line %d: ", rw.line(p))+fmt.Sprintf(format, args...))
}

func (rw *rewriter) temp(prefix string) string {
	rw.tmp++
	return fmt.Sprintf("_ppf%s%d", prefix, rw.tmp)
}

func (rw *rewriter) obj(id *ast.Ident) types.Object {
	if o := rw.r.info.Uses[id]; o != nil {
		return o
	}
	return rw.r.info.Defs[id]
}

// walk registers the rewrites of everything under n.
func (rw *rewriter) walk(n ast.Node) {
	var stack []ast.Node
	ast.Inspect(n, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.Ident:
			rw.ident(n, stack)
		case *ast.ForStmt:
			rw.forStmt(n)
		case *ast.RangeStmt:
			rw.rangeStmt(n)
		case *ast.GoStmt:
			rw.goStmt(n)
		case *ast.IndexExpr:
			rw.index(n)
		case *ast.CallExpr:
			rw.printfCall(n)
			rw.explicitTypeArgs(n)
		}
		return true
	})
}

func (rw *rewriter) ident(id *ast.Ident, stack []ast.Node) {
	obj := rw.obj(id)
	if obj == nil {
		return
	}
	for _, n := range stack {
		if _, ok := n.(*ast.FuncLit); ok {
			rw.captured[obj] = true
			break
		}
	}
	if s, ok := rw.name(obj); ok && s != id.Name {
		rw.ed.replace(rw.off(id.Pos()), rw.off(id.End()), s)
	}
}

// loopVars returns the objects of the variables a := defines.
func (rw *rewriter) definedBy(xs ...ast.Expr) []types.Object {
	var out []types.Object
	for _, x := range xs {
		if id, ok := x.(*ast.Ident); ok && id.Name != "_" {
			if o := rw.r.info.Defs[id]; o != nil {
				out = append(out, o)
			}
		}
	}
	return out
}

// capturedIn reports whether a function literal in body refers to obj,
// or body takes its address; and whether body assigns to it.
func (rw *rewriter) capturedIn(body ast.Node, obj types.Object) (captured, assigned bool) {
	var inLit int
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			inLit++
			ast.Inspect(n.Body, visit)
			inLit--
			return false
		case *ast.Ident:
			if inLit > 0 && rw.r.info.Uses[n] == obj {
				captured = true
			}
		case *ast.UnaryExpr:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND && rw.r.info.Uses[id] == obj {
				captured = true
			}
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				if id, ok := ast.Unparen(l).(*ast.Ident); ok && rw.r.info.Uses[id] == obj {
					assigned = true
				}
			}
		case *ast.IncDecStmt:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && rw.r.info.Uses[id] == obj {
				assigned = true
			}
		}
		return true
	}
	ast.Inspect(body, visit)
	return captured, assigned
}

// forStmt gives each iteration its own copy of a captured loop variable.
func (rw *rewriter) forStmt(fs *ast.ForStmt) {
	init, ok := fs.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE {
		return
	}
	var copies []string
	for _, obj := range rw.definedBy(init.Lhs...) {
		captured, assigned := rw.capturedIn(fs.Body, obj)
		if !captured {
			continue
		}
		if assigned {
			rw.refuse(fs.Pos(), "the loop variable %s is captured by a function literal (or its address is taken) and also changed in the loop body; the interpreter cannot give it Go 1.22's per-iteration semantics: copy it first (%s := %s) and capture the copy", obj.Name(), obj.Name()+"2", obj.Name())
			return
		}
		copies = append(copies, obj.Name())
	}
	if len(copies) > 0 {
		l := strings.Join(copies, ", ")
		rw.ed.insert(rw.off(fs.Body.Lbrace)+1, l+" := "+l+";")
	}
}

func (rw *rewriter) rangeStmt(rs *ast.RangeStmt) {
	tv := rw.r.info.Types[rs.X]
	if tv.Type == nil {
		return
	}
	switch u := tv.Type.Underlying().(type) {
	case *types.Basic:
		if u.Info()&types.IsInteger != 0 {
			rw.rangeInt(rs)
			return
		}
	case *types.Signature:
		rw.rangeFunc(rs, u)
		return
	}
	if rs.Tok != token.DEFINE {
		return
	}
	var copies []string
	for _, obj := range rw.definedBy(rs.Key, rs.Value) {
		if captured, _ := rw.capturedIn(rs.Body, obj); captured {
			copies = append(copies, obj.Name())
		}
	}
	if len(copies) > 0 {
		l := strings.Join(copies, ", ")
		rw.ed.insert(rw.off(rs.Body.Lbrace)+1, l+" := "+l+";")
	}
}

// rangeInt rewrites "for i := range n {" as a counted loop over a hidden
// counter, with i a fresh copy in each iteration, as in Go 1.22.
func (rw *rewriter) rangeInt(rs *ast.RangeStmt) {
	k, end := rw.temp("K"), rw.temp("E")
	from := rw.off(rs.Range)
	if rs.Key != nil {
		from = rw.off(rs.Key.Pos())
	}
	xFrom, xTo := rw.off(rs.X.Pos()), rw.off(rs.X.End())
	rw.ed.replaceFunc(from, xTo, func(inner func(int, int) string) string {
		x := inner(xFrom, xTo)
		return fmt.Sprintf("%s, %s := (%s)*0, (%s); %s < %s; %s++", k, end, x, x, k, end, k)
	})
	if rs.Key == nil {
		return
	}
	kFrom, kTo := rw.off(rs.Key.Pos()), rw.off(rs.Key.End())
	op := " = "
	if rs.Tok == token.DEFINE {
		op = " := "
	}
	rw.ed.replaceFunc(rw.off(rs.Body.Lbrace)+1, rw.off(rs.Body.Lbrace)+1, func(inner func(int, int) string) string {
		return inner(kFrom, kTo) + op + k + ";"
	})
}

// rangeFunc rewrites a loop over an iterator function into a call of it
// with the body as the yield function: continue returns true, break
// false. Bodies that leave the loop otherwise (return, goto, a labeled
// jump, defer) are refused.
func (rw *rewriter) rangeFunc(rs *ast.RangeStmt, sig *types.Signature) {
	if sig.Params().Len() != 1 {
		return
	}
	yield, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok {
		return
	}
	if bad := rw.leavesLoop(rs.Body); bad != "" {
		rw.refuse(rs.Pos(), "a %s inside a loop over a function is not supported by the interpreter: collect the values first (slices.Collect) and range over the slice", bad)
		return
	}
	vars := []ast.Expr{rs.Key, rs.Value}
	var params, assigns []string
	for i := range yield.Params().Len() {
		t := rw.spell(yield.Params().At(i).Type())
		name := rw.temp("P")
		if i < 2 && vars[i] != nil {
			if id, ok := vars[i].(*ast.Ident); ok && rs.Tok == token.DEFINE {
				name = id.Name
			} else if rs.Tok == token.ASSIGN {
				v := vars[i]
				p := name
				assigns = append(assigns, "")
				idx := len(assigns) - 1
				rw.ed.replaceFunc(rw.off(rs.Body.Lbrace)+1, rw.off(rs.Body.Lbrace)+1, func(inner func(int, int) string) string {
					_ = idx
					return inner(rw.off(v.Pos()), rw.off(v.End())) + " = " + p + ";"
				})
			}
		}
		params = append(params, name+" "+t)
	}
	xFrom, xTo := rw.off(rs.X.Pos()), rw.off(rs.X.End())
	rw.ed.replaceFunc(rw.off(rs.For), rw.off(rs.Body.Lbrace)+1, func(inner func(int, int) string) string {
		return inner(xFrom, xTo) + "(func(" + strings.Join(params, ", ") + ") bool {"
	})
	rw.ed.replace(rw.off(rs.Body.Rbrace), rw.off(rs.Body.Rbrace)+1, "; return true })")
	// break and continue of this loop.
	var visit func(n ast.Node, depth int)
	visit = func(n ast.Node, depth int) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt, *ast.RangeStmt:
				if m != n {
					return false // its own break and continue
				}
			case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				// break inside targets the switch; continue still ours.
				ast.Inspect(m, func(k ast.Node) bool {
					switch k := k.(type) {
					case *ast.FuncLit, *ast.ForStmt, *ast.RangeStmt:
						return false
					case *ast.BranchStmt:
						if k.Tok == token.CONTINUE && k.Label == nil {
							rw.ed.replace(rw.off(k.Pos()), rw.off(k.End()), "return true")
						}
					}
					return true
				})
				return false
			case *ast.BranchStmt:
				if m.Label == nil && m.Tok == token.CONTINUE {
					rw.ed.replace(rw.off(m.Pos()), rw.off(m.End()), "return true")
				}
				if m.Label == nil && m.Tok == token.BREAK {
					rw.ed.replace(rw.off(m.Pos()), rw.off(m.End()), "return false")
				}
			}
			return true
		})
	}
	visit(rs.Body, 0)
}

// leavesLoop names a statement in body that would leave a range-over-func
// loop in a way a yield function cannot.
func (rw *rewriter) leavesLoop(body *ast.BlockStmt) string {
	bad := ""
	ast.Inspect(body, func(n ast.Node) bool {
		if bad != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			bad = "return"
		case *ast.DeferStmt:
			bad = "defer"
		case *ast.BranchStmt:
			if n.Tok == token.GOTO || n.Label != nil {
				bad = n.Tok.String() + " " + n.Label.Name
			}
		}
		return true
	})
	return bad
}

// goStmt makes a goroutine recover its panic and hand it to the kernel,
// with the cell that started it. The function and its operands are
// evaluated where the go statement is, as in Go.
func (rw *rewriter) goStmt(gs *ast.GoStmt) {
	call := gs.Call
	if len(call.Args) == 1 {
		if t, ok := rw.r.info.Types[call.Args[0]].Type.(*types.Tuple); ok && t.Len() > 1 {
			rw.refuse(gs.Pos(), "go f(g()) with several values from g is not supported: assign them first")
			return
		}
	}
	builtin := false
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		_, builtin = rw.r.info.Uses[id].(*types.Builtin)
	}
	cell := rw.temp("C")
	temps := []string{cell}
	ranges := [][2]int{{-1, -1}}
	f := ""
	if !builtin {
		f = rw.temp("G")
		temps = append(temps, f)
		ranges = append(ranges, [2]int{rw.off(call.Fun.Pos()), rw.off(call.Fun.End())})
	}
	var args []string
	for _, a := range call.Args {
		t := rw.temp("A")
		temps = append(temps, t)
		args = append(args, t)
		ranges = append(ranges, [2]int{rw.off(a.Pos()), rw.off(a.End())})
	}
	ell := ""
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	line := rw.line(gs.Pos())
	funText := [2]int{rw.off(call.Fun.Pos()), rw.off(call.Fun.End())}
	rw.ed.replaceFunc(rw.off(gs.Pos()), rw.off(gs.End()), func(inner func(int, int) string) string {
		callee := f
		if builtin {
			callee = inner(funText[0], funText[1])
		}
		var vals []string
		for _, r := range ranges {
			if r[0] < 0 {
				vals = append(vals, runtimePkg+".Cell()")
				continue
			}
			vals = append(vals, inner(r[0], r[1]))
		}
		// Newlines inside the operands are kept, so lines stay the cell's.
		return fmt.Sprintf("{ %s := %s; go func() { defer func() { %s.Recovered(recover(), %s, %d) }(); %s(%s%s) }() }",
			strings.Join(temps, ", "), strings.Join(vals, ", "), runtimePkg, cell, line, callee, strings.Join(args, ", "), ell)
	})
}

// index checks the bounds of a slice, array or string index before the
// interpreter indexes, when the indexed operand can be evaluated twice.
func (rw *rewriter) index(ie *ast.IndexExpr) {
	xt := rw.r.info.Types[ie.X]
	if xt.Type == nil || xt.IsType() {
		return
	}
	if _, ok := xt.Type.(*types.Signature); ok {
		return // a generic function's instantiation
	}
	arrayLen := int64(-1)
	switch u := xt.Type.Underlying().(type) {
	case *types.Slice:
	case *types.Basic:
		if u.Info()&types.IsString == 0 {
			return
		}
		if xt.Value != nil {
			arrayLen = int64(len(constant.StringVal(xt.Value)))
		}
	case *types.Array:
		arrayLen = u.Len()
	case *types.Pointer:
		a, ok := u.Elem().Underlying().(*types.Array)
		if !ok {
			return
		}
		arrayLen = a.Len()
	default:
		return
	}
	if iv := rw.r.info.Types[ie.Index]; iv.Value != nil && arrayLen >= 0 {
		return // checked by the compiler
	}
	if !pureOperand(ie.X) {
		return
	}
	xFrom, xTo := rw.off(ie.X.Pos()), rw.off(ie.X.End())
	iFrom, iTo := rw.off(ie.Index.Pos()), rw.off(ie.Index.End())
	rw.ed.replaceFunc(iFrom, iTo, func(inner func(int, int) string) string {
		return fmt.Sprintf("%s.Index(int(%s), len(%s))", runtimePkg, inner(iFrom, iTo), inner(xFrom, xTo))
	})
}

// pureOperand reports whether evaluating x twice is the same as once.
func pureOperand(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Ident:
		return true
	case *ast.ParenExpr:
		return pureOperand(x.X)
	case *ast.SelectorExpr:
		return pureOperand(x.X)
	case *ast.StarExpr:
		return pureOperand(x.X)
	}
	return false
}

// explicitTypeArgs writes the type arguments go/types inferred for a
// call of a generic function: the interpreter infers some wrongly (from a
// function argument, for one).
func (rw *rewriter) explicitTypeArgs(call *ast.CallExpr) {
	fun := ast.Unparen(call.Fun)
	var explicit int
	var end token.Pos
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun, explicit, end = f.X, 1, f.Rbrack
	case *ast.IndexListExpr:
		fun, explicit, end = f.X, len(f.Indices), f.Rbrack
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return
	}
	inst, ok := rw.r.info.Instances[id]
	if !ok || inst.TypeArgs.Len() == explicit {
		return
	}
	if fn, ok := rw.r.info.Uses[id].(*types.Func); !ok || fn.Type().(*types.Signature).Recv() != nil {
		return
	}
	var args []string
	for i := range inst.TypeArgs.Len() {
		args = append(args, rw.spell(inst.TypeArgs.At(i)))
	}
	list := "[" + strings.Join(args, ", ") + "]"
	if explicit == 0 {
		rw.ed.insert(rw.off(fun.End()), list)
		return
	}
	rw.ed.replace(rw.off(fun.End()), rw.off(end)+1, list)
}

// printfs are the formatting functions whose %T and %#v are checked, with
// the index of their format argument.
var printfs = map[string]int{
	"fmt.Printf": 0, "fmt.Sprintf": 0, "fmt.Errorf": 0, "fmt.Fprintf": 1, "fmt.Appendf": 1,
	"log.Printf": 0, "log.Fatalf": 0, "log.Panicf": 0,
}

// printfCall refuses %T and %#v of values whose dynamic type may be one
// a cell declared: the interpreter prints its own names for those.
func (rw *rewriter) printfCall(call *ast.CallExpr) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	fn, ok := rw.r.info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return
	}
	at, ok := printfs[fn.Pkg().Path()+"."+fn.Name()]
	if !ok || len(call.Args) <= at {
		return
	}
	fv := rw.r.info.Types[call.Args[at]].Value
	if fv == nil || fv.Kind() != constant.String {
		return
	}
	verbs, ok := typeVerbs(constant.StringVal(fv))
	args := call.Args[at+1:]
	for i, v := range verbs {
		if !ok || i >= len(args) {
			break
		}
		if v && rw.mayBeCellType(rw.r.info.Types[args[i]].Type) {
			rw.refuse(call.Pos(), "%%T and %%#v print the interpreter's own type names for types declared in cells (and for interface values, which may hold them): print a String method's result, or use a type switch")
			return
		}
	}
	if !ok {
		for _, a := range args {
			if rw.mayBeCellType(rw.r.info.Types[a].Type) {
				rw.refuse(call.Pos(), "a format with explicit argument indexes and %%T or %%#v is not supported for values of cell types")
				return
			}
		}
	}
}

// typeVerbs reports, for each argument a format consumes, whether it is
// printed with %T or %#v. ok is false when the format uses explicit
// argument indexes together with those verbs.
func typeVerbs(format string) (verbs []bool, ok bool) {
	typed, indexed := false, false
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		sharp := false
		for ; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '#':
				sharp = true
				continue
			case strings.IndexByte("+- 0.", c) >= 0 || (c >= '0' && c <= '9'):
				continue
			case c == '*':
				verbs = append(verbs, false)
				continue
			case c == '[':
				indexed = true
				continue
			case c == ']':
				continue
			}
			break
		}
		if i >= len(format) || format[i] == '%' {
			continue
		}
		t := format[i] == 'T' || (format[i] == 'v' && sharp)
		typed = typed || t
		verbs = append(verbs, t)
	}
	return verbs, !(indexed && typed)
}

// mayBeCellType reports whether a value of static type t may print a
// cell-declared type's name: an interface, or a type that mentions one.
func (rw *rewriter) mayBeCellType(t types.Type) bool {
	if t == nil {
		return false
	}
	found := false
	seen := map[types.Type]bool{}
	var visit func(t types.Type)
	visit = func(t types.Type) {
		if found || seen[t] {
			return
		}
		seen[t] = true
		switch t := types.Unalias(t).(type) {
		case *types.Interface:
			found = true
		case *types.Named:
			if t.Obj().Pkg() == rw.r.pkg {
				found = true
				return
			}
			visit(t.Underlying())
		case *types.Pointer:
			visit(t.Elem())
		case *types.Slice:
			visit(t.Elem())
		case *types.Array:
			visit(t.Elem())
		case *types.Map:
			visit(t.Key())
			visit(t.Elem())
		case *types.Chan:
			visit(t.Elem())
		case *types.Struct:
			for i := range t.NumFields() {
				visit(t.Field(i).Type())
			}
		}
	}
	visit(t)
	return found
}
