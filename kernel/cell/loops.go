package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// forStmt gives each iteration of a three-clause loop its own copy of a
// loop variable that a closure captures (or whose address is taken), as
// Go 1.22 does; yaegi shares one variable across iterations.
func (rw *rewriter) forStmt(fs *ast.ForStmt, stack []ast.Node) {
	init, ok := fs.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE {
		return
	}
	var copies []string
	changed := false
	for _, obj := range rw.definedBy(init.Lhs...) {
		captured, assigned := rw.capturedIn(fs.Body, obj)
		if captured {
			copies = append(copies, obj.Name())
			changed = changed || assigned
		}
	}
	if len(copies) == 0 {
		return
	}
	if !changed {
		// The body never changes them: a copy at its start is the same.
		l := strings.Join(copies, ", ")
		rw.ed.insert(rw.off(fs.Body.Lbrace)+1, l+" := "+l+";")
		return
	}
	rw.perIteration(fs, stack)
}

// perIteration writes a three-clause loop whose body changes a captured
// loop variable as Go 1.22 defines it: each iteration's variables are
// fresh copies of the previous iteration's, made before the post
// statement runs on them.
//
//	for i := 0; i < n; i++ { body }
//
// becomes
//
//	{ p := 0; first := true; for { i := p; if !first { i++ }; first = false;
//	  if !(i < n) { break }; body; p = i } }
//
// with each continue of the loop saving i into p first.
func (rw *rewriter) perIteration(fs *ast.ForStmt, stack []ast.Node) {
	if len(stack) >= 2 {
		if _, ok := stack[len(stack)-2].(*ast.LabeledStmt); ok {
			rw.refuse(fs.Pos(), "a labeled loop whose body changes a captured loop variable is not supported: copy the variable (j := i) and capture the copy")
			return
		}
	}
	init := fs.Init.(*ast.AssignStmt)
	var vars, saved []string
	for _, l := range init.Lhs {
		vars = append(vars, l.(*ast.Ident).Name)
		saved = append(saved, rw.temp("P"))
	}
	first := rw.temp("First")
	v, p := strings.Join(vars, ", "), strings.Join(saved, ", ")
	save := p + " = " + v
	rng := func(n ast.Node) [2]int {
		if n == nil {
			return [2]int{-1, -1}
		}
		return [2]int{rw.off(n.Pos()), rw.off(n.End())}
	}
	rhs := [2]int{rw.off(init.Rhs[0].Pos()), rw.off(init.Rhs[len(init.Rhs)-1].End())}
	cond, post := rng(fs.Cond), rng(fs.Post)
	rw.ed.replaceFunc(rw.off(fs.For), rw.off(fs.Body.Lbrace)+1, func(inner func(int, int) string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "{ %s := %s; %s := true; for { %s := %s; ", p, inner(rhs[0], rhs[1]), first, v, p)
		if post[0] >= 0 {
			fmt.Fprintf(&b, "if !%s { %s }; ", first, inner(post[0], post[1]))
		}
		fmt.Fprintf(&b, "%s = false; ", first)
		if cond[0] >= 0 {
			fmt.Fprintf(&b, "if !(%s) { break }; ", inner(cond[0], cond[1]))
		}
		return b.String()
	})
	rw.ed.replace(rw.off(fs.Body.Rbrace), rw.off(fs.Body.Rbrace)+1, "; "+save+" } }")
	// continue of this loop saves the variables first.
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit, *ast.ForStmt, *ast.RangeStmt:
			return false
		case *ast.BranchStmt:
			if n.Tok == token.CONTINUE && n.Label == nil {
				rw.ed.replace(rw.off(n.Pos()), rw.off(n.End()), "{ "+save+"; continue }")
			}
		}
		return true
	}
	for _, st := range fs.Body.List {
		ast.Inspect(st, visit)
	}
}
