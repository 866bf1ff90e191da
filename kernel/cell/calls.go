package cell

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"
)

// go and defer statements: operands evaluated where the statement is, as
// in Go; goroutine panics handed to the kernel; deferred calls in loops
// through a stack of the function's own.

// enclosingLoop returns the innermost for or range statement around the
// node at the top of stack, within the same function.
func enclosingLoop(stack []ast.Node) ast.Stmt {
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return nil
		case *ast.ForStmt:
			return n
		case *ast.RangeStmt:
			return n
		}
	}
	return nil
}

// refersInside reports whether n uses a variable declared inside loop.
func (rw *rewriter) refersInside(n ast.Node, loop ast.Stmt) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if v, ok := rw.r.info.Uses[id].(*types.Var); ok && v.Pos() >= loop.Pos() && v.Pos() < loop.End() {
				found = true
			}
		}
		return !found
	})
	return found
}

// deferStmt evaluates a deferred call's function and arguments where the
// defer statement is, as Go does (yaegi evaluates them when the call
// runs). In a loop, where yaegi's deferred closures share the loop's
// variables, a deferred call that depends on them is refused.
func (rw *rewriter) deferStmt(ds *ast.DeferStmt, stack []ast.Node) {
	call := ds.Call
	if loop := enclosingLoop(stack); loop != nil {
		rw.loopDefer(ds, stack)
		return
	}
	if len(call.Args) == 0 {
		return
	}
	if lit, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok && lit != nil && allConstant(rw, call.Args) {
		return
	}
	if len(call.Args) == 1 {
		if t, ok := rw.r.info.Types[call.Args[0]].Type.(*types.Tuple); ok && t.Len() > 1 {
			rw.refuse(ds.Pos(), "defer f(g()) with several values from g is not supported: assign them first")
			return
		}
	}
	builtin := false
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		_, builtin = rw.r.info.Uses[id].(*types.Builtin)
	}
	var temps, args []string
	var ranges [][2]int
	f := ""
	if !builtin {
		f = rw.temp("D")
		temps = append(temps, f)
		ranges = append(ranges, [2]int{rw.off(call.Fun.Pos()), rw.off(call.Fun.End())})
	}
	for _, a := range call.Args {
		t := rw.temp("A")
		temps, args = append(temps, t), append(args, t)
		ranges = append(ranges, [2]int{rw.off(a.Pos()), rw.off(a.End())})
	}
	ell := ""
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	funText := [2]int{rw.off(call.Fun.Pos()), rw.off(call.Fun.End())}
	rw.ed.replaceFunc(rw.off(ds.Pos()), rw.off(ds.End()), func(inner func(int, int) string) string {
		callee := f
		if builtin {
			callee = inner(funText[0], funText[1])
		}
		var vals []string
		for _, r := range ranges {
			vals = append(vals, inner(r[0], r[1]))
		}
		return fmt.Sprintf("%s := %s; defer func() { %s(%s%s) }()", strings.Join(temps, ", "), strings.Join(vals, ", "), callee, strings.Join(args, ", "), ell)
	})
}

func allConstant(rw *rewriter, xs []ast.Expr) bool {
	for _, x := range xs {
		if rw.r.info.Types[x].Value == nil {
			return false
		}
	}
	return true
}

// loopDefer runs a defer statement inside a loop through a stack of the
// function's own: yaegi's deferred calls in a loop share the loop's
// variables. The stack's runner is deferred when the first such call is,
// so it runs in Go's order among the function's other deferred calls;
// in a loop over a function (whose body becomes a function) it is
// deferred when the enclosing function starts.
func (rw *rewriter) loopDefer(ds *ast.DeferStmt, stack []ast.Node) {
	call := ds.Call
	if callsRecover(call) {
		rw.refuse(ds.Pos(), "a deferred function that calls recover inside a loop is not supported by the interpreter: move the loop into a function and defer there")
		return
	}
	var body *ast.BlockStmt
	rangeFunc := false
	for i := len(stack) - 1; i >= 0 && body == nil; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			body = f.Body
		case *ast.FuncDecl:
			body = f.Body
		case *ast.RangeStmt:
			if t := rw.r.info.Types[f.X].Type; t != nil {
				_, rangeFunc = t.Underlying().(*types.Signature)
			}
		}
	}
	if body == nil {
		return
	}
	if rangeFunc && hasDeferOutsideLoops(body) {
		rw.refuse(ds.Pos(), "a defer inside a loop over a function, in a function that also defers outside loops, is not supported by the interpreter: move the loop into a function of its own")
		return
	}
	if rw.deferStacks == nil {
		rw.deferStacks = map[*ast.BlockStmt]string{}
	}
	name, ok := rw.deferStacks[body]
	run := func(n string) string {
		// A compiled runner: yaegi's deferred closures in a loop misbehave.
		return fmt.Sprintf("defer %s.RunDeferred(&%s);", runtimePkg, n)
	}
	if !ok {
		name = rw.temp("Defers")
		rw.deferStacks[body] = name
		decl := "var " + name + " []func();"
		if rangeFunc {
			decl += " " + name + " = []func(){}; " + run(name)
		}
		rw.ed.insert(rw.off(body.Lbrace)+1, decl)
	}
	lazy := ""
	if !rangeFunc {
		lazy = fmt.Sprintf("if %s == nil { %s = []func(){}; %s }; ", name, name, run(name))
	}
	if _, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok {
		// yaegi hangs calling, at the function's end, closures made in a
		// loop.
		rw.refuse(ds.Pos(), "a deferred function literal inside a loop is not supported by the interpreter: defer a named function with the values as arguments (defer record(i)), or collect the values and defer once after the loop")
		return
	}
	sig, _ := rw.r.info.Types[call.Fun].Type.(*types.Signature)
	builtin := sig == nil
	params, names, callee, ell := rw.callOperands(call, sig, builtin, "F")
	// "defer F(A)" becomes "stack = append(stack, func(f, a) func() {...}(F, A))":
	// operands evaluated now, each call with a frame of its own.
	head := fmt.Sprintf("%s%s = append(%s, func(%s) func() { return func() { %s(%s%s) } }(", lazy, name, name, strings.Join(params, ", "), callee, strings.Join(names, ", "), ell)
	switch {
	case builtin && len(call.Args) == 0:
		rw.ed.replace(rw.off(ds.Pos()), rw.off(call.End()), head+"))")
		return
	case builtin:
		rw.ed.replace(rw.off(ds.Pos()), rw.off(call.Args[0].Pos()), head)
	default:
		rw.ed.replace(rw.off(ds.Pos()), rw.off(call.Fun.Pos()), head)
		if len(call.Args) > 0 {
			rw.ed.replace(rw.off(call.Fun.End()), rw.off(call.Args[0].Pos()), ", ")
		} else {
			rw.ed.replace(rw.off(call.Fun.End()), rw.off(call.End()), "))")
			return
		}
	}
	if call.Ellipsis.IsValid() {
		rw.ed.replace(rw.off(call.Ellipsis), rw.off(call.Ellipsis)+3, "")
	}
	rw.ed.replace(rw.off(call.Rparen), rw.off(call.Rparen)+1, "))")
}

// callsRecover reports whether a deferred call's function literal calls
// recover.
func callsRecover(call *ast.CallExpr) bool {
	lit, ok := ast.Unparen(call.Fun).(*ast.FuncLit)
	if !ok {
		return false
	}
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "recover" {
				found = true
			}
		}
		return !found
	})
	return found
}

// hasDeferOutsideLoops reports whether a function body defers outside
// any loop (nested functions aside).
func hasDeferOutsideLoops(body *ast.BlockStmt) bool {
	found := false
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit, *ast.ForStmt, *ast.RangeStmt:
			return false
		case *ast.DeferStmt:
			found = true
		}
		return !found
	}
	ast.Inspect(body, visit)
	return found
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
	if !builtin && sig == nil {
		return
	}
	params, names, callee, ell := rw.callOperands(call, sig, builtin, "G")
	params = append([]string{cell + " int"}, params...)
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

// callOperands are a call's function and arguments as the parameters of a
// literal that makes the call later (see goStmt and loopDefer): each
// parameter with its type, the names to call with, the callee (the
// function parameter, or a builtin's name), and "..." for a spread slice.
func (rw *rewriter) callOperands(call *ast.CallExpr, sig *types.Signature, builtin bool, prefix string) (params, names []string, callee, ell string) {
	if builtin {
		callee = rw.r.texts[rw.r.fileIndex(call.Fun.Pos())][rw.off(call.Fun.Pos()):rw.off(call.Fun.End())]
	} else {
		callee = rw.temp(prefix)
		params = append(params, callee+" "+rw.spell(sig))
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
		params, names = append(params, n+" "+rw.spell(t)), append(names, n)
	}
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	return params, names, callee, ell
}
