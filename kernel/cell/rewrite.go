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
	// deferStacks names each function's stack of deferred calls made in
	// loops (see loopDefer).
	deferStacks map[*ast.BlockStmt]string
	// cellOf is the cell a //line file name places code in.
	cellOf func(file string) int
}

// lineVar holds the cell and line of the last statement cell code
// started: cell<<lineBits | line. yaegi's own panic positions point at
// the start of the block, not at the statement that panicked.
const (
	lineVar  = "_ppfLine"
	lineBits = 24
)

// markLines sets lineVar before each statement of a list.
func (rw *rewriter) markLines(list []ast.Stmt) {
	if rw.cellOf == nil {
		return
	}
	for _, st := range list {
		switch st.(type) {
		case *ast.CaseClause, *ast.CommClause:
			continue // a switch's or select's body lists its clauses
		}
		p := rw.r.fset.Position(st.Pos())
		cell := rw.cellOf(p.Filename)
		if cell <= 0 {
			continue
		}
		rw.ed.insert(rw.off(st.Pos()), fmt.Sprintf("%s = %d; ", lineVar, cell<<lineBits|p.Line))
	}
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
		case *ast.BlockStmt:
			rw.markLines(n.List)
		case *ast.SelectorExpr, *ast.IndexListExpr:
			rw.funcValue(n.(ast.Expr), stack)
		case *ast.GenDecl:
			rw.constDecl(n)
		case *ast.CaseClause:
			rw.markLines(n.Body)
		case *ast.CommClause:
			rw.markLines(n.Body)
		case *ast.ForStmt:
			rw.forStmt(n, stack)
		case *ast.RangeStmt:
			rw.rangeStmt(n, stack)
		case *ast.GoStmt:
			rw.goStmt(n)
		case *ast.DeferStmt:
			rw.deferStmt(n, stack)
		case *ast.IndexExpr:
			rw.funcValue(n, stack)
			rw.index(n, stack)
		case *ast.SliceExpr:
			rw.slice(n)
		case *ast.ExprStmt:
			rw.panicStmt(n)
		case *ast.TypeAssertExpr:
			if n.Type != nil {
				rw.typeAssert(n.Pos(), rw.r.info.Types[n.Type].Type)
				rw.commaOkAssert(n, stack)
			}
		case *ast.TypeSwitchStmt:
			for _, c := range n.Body.List {
				for _, x := range c.(*ast.CaseClause).List {
					rw.typeAssert(x.Pos(), rw.r.info.Types[x].Type)
				}
			}
		case *ast.ReturnStmt:
			rw.returnStmt(n, stack)
		case *ast.CallExpr:
			rw.builtinCall(n)
			rw.printfCall(n)
			rw.explicitTypeArgs(n)
			rw.compiledCall(n, stack)
		}
		return true
	})
}

func (rw *rewriter) ident(id *ast.Ident, stack []ast.Node) {
	obj := rw.obj(id)
	if obj == nil {
		return
	}
	rw.funcValue(id, stack)
	for i, n := range stack {
		if _, ok := n.(*ast.FuncLit); ok {
			rw.captured[obj] = true
			break
		}
		// &x outlives a redefinition of x as a closure does.
		if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.AND && i+1 < len(stack) && stack[i+1] == id {
			rw.captured[obj] = true
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

func (rw *rewriter) rangeStmt(rs *ast.RangeStmt, stack []ast.Node) {
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
		if u.Info()&types.IsString != 0 && rs.Key != nil && !isBlank(rs.Key) {
			rw.rangeString(rs)
			return
		}
	case *types.Signature:
		rw.rangeFunc(rs, u, stack)
		return
	case *types.Slice:
		if _, ok := u.Elem().Underlying().(*types.Chan); ok {
			rw.rangeIndexed(rs)
			return
		}
	case *types.Array:
		if _, ok := u.Elem().Underlying().(*types.Chan); ok {
			rw.rangeIndexed(rs)
			return
		}
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

func isBlank(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "_"
}

// rangeString ranges over the kernel's decoding of a string: yaegi's own
// counts the byte index wrongly after an invalid UTF-8 byte.
func (rw *rewriter) rangeString(rs *ast.RangeStmt) {
	p := rw.temp("R")
	xFrom, xTo := rw.off(rs.X.Pos()), rw.off(rs.X.End())
	kFrom, kTo := rw.off(rs.Key.Pos()), rw.off(rs.Key.End())
	vars := [][2]int{{kFrom, kTo}}
	fields := []string{p + ".I"}
	if rs.Value != nil && !isBlank(rs.Value) {
		vars = append(vars, [2]int{rw.off(rs.Value.Pos()), rw.off(rs.Value.End())})
		fields = append(fields, p+".R")
	}
	rw.ed.replaceFunc(kFrom, xTo, func(inner func(int, int) string) string {
		return "_, " + p + " := range " + runtimePkg + ".Runes(" + inner(xFrom, xTo) + ")"
	})
	rw.bindAtBodyStart(rs, vars, fields)
}

// bindAtBodyStart sets a range loop's variables (their ranges in vars)
// to vals at the start of its body, as := or = as the loop wrote.
func (rw *rewriter) bindAtBodyStart(rs *ast.RangeStmt, vars [][2]int, vals []string) {
	op := " = "
	if rs.Tok == token.DEFINE {
		op = " := "
	}
	at := rw.off(rs.Body.Lbrace) + 1
	rw.ed.replaceFunc(at, at, func(inner func(int, int) string) string {
		var names []string
		for _, v := range vars {
			names = append(names, inner(v[0], v[1]))
		}
		return strings.Join(names, ", ") + op + strings.Join(vals, ", ") + ";"
	})
}

// rangeIndexed ranges over a slice of channels by index: yaegi's range
// takes such a slice for a channel.
func (rw *rewriter) rangeIndexed(rs *ast.RangeStmt) {
	i, x := rw.temp("I"), rw.temp("S")
	from := rw.off(rs.Range)
	if rs.Key != nil {
		from = rw.off(rs.Key.Pos())
	}
	xFrom, xTo := rw.off(rs.X.Pos()), rw.off(rs.X.End())
	rw.ed.replaceFunc(from, xTo, func(inner func(int, int) string) string {
		return fmt.Sprintf("%s, %s := 0, %s; %s < len(%s); %s++", i, x, inner(xFrom, xTo), i, x, i)
	})
	var vars [][2]int
	var vals []string
	if rs.Key != nil && !isBlank(rs.Key) {
		vars = append(vars, [2]int{rw.off(rs.Key.Pos()), rw.off(rs.Key.End())})
		vals = append(vals, i)
	}
	if rs.Value != nil && !isBlank(rs.Value) {
		vars = append(vars, [2]int{rw.off(rs.Value.Pos()), rw.off(rs.Value.End())})
		vals = append(vals, x+"["+i+"]")
	}
	if len(vars) > 0 {
		rw.bindAtBodyStart(rs, vars, vals)
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
func (rw *rewriter) rangeFunc(rs *ast.RangeStmt, sig *types.Signature, stack []ast.Node) {
	if sig.Params().Len() != 1 {
		return
	}
	yield, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok {
		return
	}
	bad, returns := rw.leavesLoop(rs.Body)
	outer := rw.enclosingSig(stack[:len(stack)-1])
	if bad == "" && len(returns) > 0 && outer == nil {
		bad = "return"
	}
	if bad != "" {
		rw.refuse(rs.Pos(), "a %s inside a loop over a function is not supported by the interpreter: collect the values first (slices.Collect) and range over the slice", bad)
		return
	}
	// A return in the body ends the iteration and is made after it.
	var before, after string
	if len(returns) > 0 {
		done := rw.temp("Done")
		var results []string
		for i := range outer.Results().Len() {
			r := rw.temp("Ret")
			results = append(results, r)
			before += "var " + r + " " + rw.spell(outer.Results().At(i).Type()) + "; "
		}
		before = "var " + done + " bool; " + before
		if len(results) > 0 {
			after = fmt.Sprintf("; if %s { return %s }", done, strings.Join(results, ", "))
		} else {
			after = fmt.Sprintf("; if %s { return }", done)
		}
		for _, ret := range returns {
			ret := ret
			rw.ed.replaceFunc(rw.off(ret.Pos()), rw.off(ret.End()), func(inner func(int, int) string) string {
				if len(ret.Results) == 0 {
					return fmt.Sprintf("{ %s = true; return false }", done)
				}
				var vals []string
				for _, x := range ret.Results {
					vals = append(vals, inner(rw.off(x.Pos()), rw.off(x.End())))
				}
				return fmt.Sprintf("{ %s = %s; %s = true; return false }", strings.Join(results, ", "), strings.Join(vals, ", "), done)
			})
		}
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
		return before + inner(xFrom, xTo) + "(func(" + strings.Join(params, ", ") + ") bool {"
	})
	rw.ed.replace(rw.off(rs.Body.Rbrace), rw.off(rs.Body.Rbrace)+1, "; return true })"+after)
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
// loop in a way a yield function cannot, and lists its returns.
func (rw *rewriter) leavesLoop(body *ast.BlockStmt) (bad string, returns []*ast.ReturnStmt) {
	ast.Inspect(body, func(n ast.Node) bool {
		if bad != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			returns = append(returns, n)
		case *ast.DeferStmt:
			// Run through the function's own stack (see loopDefer).
		case *ast.RangeStmt:
			if t := rw.r.info.Types[n.X].Type; t != nil {
				if _, ok := t.Underlying().(*types.Signature); ok && n != nil {
					if _, rets := rw.leavesLoop(n.Body); len(rets) > 0 {
						bad = "return inside a nested loop over a function"
					}
				}
			}
		case *ast.BranchStmt:
			if n.Tok == token.GOTO || n.Label != nil {
				bad = n.Tok.String() + " " + n.Label.Name
			}
		}
		return true
	})
	return bad, returns
}

// goStmt makes a goroutine recover its panic and hand it to the kernel,
// with the number of the cell running when it started. The function and
// its operands are evaluated where the go statement is, as in Go, and
// reach the goroutine as parameters: yaegi's closures share a loop's
// variables between iterations.
func (rw *rewriter) goStmt(gs *ast.GoStmt) {
	call := gs.Call
	line := rw.line(gs.Pos())
	cell := rw.temp("C")
	guard := fmt.Sprintf("defer func() { %s.Recovered(recover(), %s, %d) }();", runtimePkg, cell, line)
	if lit, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok {
		param := cell + " int"
		if lit.Type.Params.NumFields() > 0 {
			param += ", "
		}
		rw.ed.insert(rw.off(lit.Type.Params.Opening)+1, param)
		arg := runtimePkg + ".Cell()"
		if len(call.Args) > 0 {
			arg += ", "
		}
		rw.ed.insert(rw.off(call.Lparen)+1, arg)
		rw.ed.insert(rw.off(lit.Body.Lbrace)+1, guard)
		return
	}
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
	sig, _ := rw.r.info.Types[call.Fun].Type.(*types.Signature)
	params := []string{cell + " int"}
	var names []string
	f := ""
	if !builtin {
		if sig == nil {
			return
		}
		f = rw.temp("G")
		params = append(params, f+" "+rw.spell(sig))
	}
	for i, a := range call.Args {
		var t types.Type
		if !builtin {
			t = paramType(sig, i, call.Ellipsis.IsValid())
		}
		if t == nil {
			t = types.Default(rw.r.info.Types[a].Type)
		}
		n := rw.temp("A")
		names = append(names, n)
		params = append(params, n+" "+rw.spell(t))
	}
	ell := ""
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	callee := f
	if builtin {
		callee = rw.r.texts[rw.r.fileIndex(call.Fun.Pos())][rw.off(call.Fun.Pos()):rw.off(call.Fun.End())]
	}
	// "go F(A, B)" becomes "go func(c int, f T, a A, b B) {...}(Cell(), F, A, B)":
	// the operands stay where they were, with their own rewrites.
	head := fmt.Sprintf("go func(%s) { %s %s(%s%s) }(%s.Cell()", strings.Join(params, ", "), guard, callee, strings.Join(names, ", "), ell, runtimePkg)
	if builtin {
		if len(call.Args) == 0 {
			rw.ed.replace(rw.off(gs.Pos()), rw.off(call.End()), head+")")
			return
		}
		rw.ed.replace(rw.off(gs.Pos()), rw.off(call.Args[0].Pos()), head+", ")
	} else {
		rw.ed.replace(rw.off(gs.Pos()), rw.off(call.Fun.Pos()), head+", ")
		if len(call.Args) > 0 {
			rw.ed.replace(rw.off(call.Fun.End()), rw.off(call.Args[0].Pos()), ", ")
		}
	}
	if call.Ellipsis.IsValid() {
		rw.ed.replace(rw.off(call.Ellipsis), rw.off(call.Ellipsis)+3, "")
	}
}

// index checks the bounds of a slice, array or string index before the
// interpreter indexes, when the indexed operand can be evaluated twice.
func (rw *rewriter) index(ie *ast.IndexExpr, stack []ast.Node) {
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
	xFrom, xTo := rw.off(ie.X.Pos()), rw.off(ie.X.End())
	iFrom, iTo := rw.off(ie.Index.Pos()), rw.off(ie.Index.End())
	if !pureOperand(ie.X) {
		// The operand is evaluated once, as a parameter, where the index
		// is only read.
		if isLvalue(ie, stack) {
			return
		}
		xt := rw.spell(rw.r.info.Types[ie.X].Type)
		et := rw.spell(rw.r.info.Types[ie].Type)
		rw.ed.replaceFunc(rw.off(ie.Pos()), rw.off(ie.End()), func(inner func(int, int) string) string {
			return fmt.Sprintf("func(s %s) %s { return s[%s.Index(int(%s), len(s))] }(%s)", xt, et, runtimePkg, inner(iFrom, iTo), inner(xFrom, xTo))
		})
		return
	}
	rw.ed.replaceFunc(iFrom, iTo, func(inner func(int, int) string) string {
		return fmt.Sprintf("%s.Index(int(%s), len(%s))", runtimePkg, inner(iFrom, iTo), inner(xFrom, xTo))
	})
}

// isLvalue reports whether the expression at the top of stack is
// assigned to, or its address taken.
func isLvalue(x ast.Expr, stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	switch p := stack[len(stack)-2].(type) {
	case *ast.AssignStmt:
		for _, l := range p.Lhs {
			if l == x {
				return true
			}
		}
	case *ast.IncDecStmt:
		return true
	case *ast.UnaryExpr:
		return p.Op == token.AND
	case *ast.SelectorExpr, *ast.IndexExpr, *ast.SliceExpr:
		return true // a method call or an element may need it addressable
	case *ast.RangeStmt:
		return p.Key == x || p.Value == x
	}
	return false
}

// pureOperand reports whether evaluating x twice is the same as once.
func pureOperand(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.ParenExpr:
		return pureOperand(x.X)
	case *ast.SelectorExpr:
		return pureOperand(x.X)
	case *ast.StarExpr:
		return pureOperand(x.X)
	case *ast.BinaryExpr:
		return pureOperand(x.X) && pureOperand(x.Y)
	case *ast.UnaryExpr:
		return x.Op != token.ARROW && x.Op != token.AND && pureOperand(x.X)
	case *ast.IndexExpr:
		return pureOperand(x.X) && pureOperand(x.Index)
	case *ast.CallExpr:
		id, ok := x.Fun.(*ast.Ident)
		return ok && (id.Name == "len" || id.Name == "cap") && len(x.Args) == 1 && pureOperand(x.Args[0])
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
