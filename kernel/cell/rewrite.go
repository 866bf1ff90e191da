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
	r  *checkResult
	ed *editor
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
	// inCell is set when rewriting the running cell's statements.
	inCell bool
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
