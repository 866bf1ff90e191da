package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Range loops: Go 1.22 per-iteration variables, ranges over integers and
// functions, and the string and channel-slice ranges yaegi gets wrong.

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
	var params []string
	for i := range yield.Params().Len() {
		t := rw.spell(yield.Params().At(i).Type())
		name := rw.temp("P")
		if i < 2 && vars[i] != nil {
			if id, ok := vars[i].(*ast.Ident); ok && rs.Tok == token.DEFINE {
				name = id.Name
			} else if rs.Tok == token.ASSIGN {
				// "for k = range f": the yield's parameter is assigned to k.
				v, p := vars[i], name
				rw.ed.replaceFunc(rw.off(rs.Body.Lbrace)+1, rw.off(rs.Body.Lbrace)+1, func(inner func(int, int) string) string {
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
