package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Function values the interpreter gets wrong, written as function
// literals it gets right: method values (yaegi binds the receiver when
// the method is called, Go when the value is made), method expressions,
// and instantiated generic functions used as values.

// funcValue rewrites a selector or name that denotes a function value.
func (rw *rewriter) funcValue(x ast.Expr, stack []ast.Node) {
	if len(stack) >= 2 {
		if call, ok := stack[len(stack)-2].(*ast.CallExpr); ok && ast.Unparen(call.Fun) == x {
			return // called at once: no value made
		}
		switch p := stack[len(stack)-2].(type) {
		case *ast.ParenExpr:
			if len(stack) >= 3 {
				if call, ok := stack[len(stack)-3].(*ast.CallExpr); ok && call.Fun == p {
					return
				}
			}
		case *ast.IndexExpr, *ast.IndexListExpr:
			return // the instantiation is the value, handled there
		}
	}
	sig, ok := rw.r.info.Types[x].Type.(*types.Signature)
	if !ok {
		return
	}
	switch x := x.(type) {
	case *ast.SelectorExpr:
		sel := rw.r.info.Selections[x]
		if sel == nil {
			return
		}
		switch sel.Kind() {
		case types.MethodVal:
			rw.methodValue(x, sel, sig)
		case types.MethodExpr:
			rw.methodExpr(x, sig)
		}
	case *ast.Ident, *ast.IndexExpr, *ast.IndexListExpr:
		id := x
		if ix, ok := x.(*ast.IndexExpr); ok {
			id = ix.X
		}
		if ix, ok := x.(*ast.IndexListExpr); ok {
			id = ix.X
		}
		ident, ok := ast.Unparen(id).(*ast.Ident)
		if !ok {
			return
		}
		fn, ok := rw.r.info.Uses[ident].(*types.Func)
		if !ok || fn.Type().(*types.Signature).TypeParams().Len() == 0 {
			return
		}
		inst, ok := rw.r.info.Instances[ident]
		if !ok {
			return
		}
		var targs []string
		for i := range inst.TypeArgs.Len() {
			targs = append(targs, rw.spell(inst.TypeArgs.At(i)))
		}
		name := ident.Name
		if s, ok := rw.name(fn); ok {
			name = s
		}
		rw.wrapFunc(x, sig, func(args string) string {
			return name + "[" + strings.Join(targs, ", ") + "](" + args + ")"
		})
	}
}

// wrapFunc replaces x, a function value of type sig, with a literal that
// calls body(arguments).
func (rw *rewriter) wrapFunc(x ast.Expr, sig *types.Signature, body func(args string) string) {
	params, args, res, ret := rw.sigLists(sig)
	lit := "func(" + strings.Join(params, ", ") + ") " + res + " { " + ret + body(strings.Join(args, ", ")) + " }"
	rw.ed.replace(rw.off(x.Pos()), rw.off(x.End()), lit)
}

// sigLists spells a signature for a function literal that passes its
// parameters on: the parameters, the arguments to call with, the results,
// and "return " unless there are none.
func (rw *rewriter) sigLists(sig *types.Signature) (params, args []string, res, ret string) {
	for i := range sig.Params().Len() {
		p := fmt.Sprintf("_ppfa%d", i)
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			params, args = append(params, p+" ..."+rw.spell(t.(*types.Slice).Elem())), append(args, p+"...")
			continue
		}
		params, args = append(params, p+" "+rw.spell(t)), append(args, p)
	}
	var results []string
	for i := range sig.Results().Len() {
		results = append(results, rw.spell(sig.Results().At(i).Type()))
	}
	res = strings.Join(results, ", ")
	if len(results) > 1 {
		res = "(" + res + ")"
	}
	if len(results) > 0 {
		ret = "return "
	}
	return params, args, res, ret
}

// methodValue binds x.M's receiver where the value is made: the receiver
// is copied (or its address taken) then, as in Go.
func (rw *rewriter) methodValue(x *ast.SelectorExpr, sel *types.Selection, sig *types.Signature) {
	fn := sel.Obj().(*types.Func)
	recv := fn.Type().(*types.Signature).Recv().Type()
	_, ptrRecv := recv.(*types.Pointer)
	xt := rw.r.info.Types[x.X].Type
	_, xPtr := xt.Underlying().(*types.Pointer)
	if types.IsInterface(xt) || len(sel.Index()) > 1 {
		return // dynamic dispatch, or a promoted method: left as it is
	}
	from, to := rw.off(x.X.Pos()), rw.off(x.X.End())
	rt := rw.spell(xt)
	amp := ""
	if ptrRecv && !xPtr {
		rt, amp = "*"+rt, "&"
	}
	params, args, res, ret := rw.sigLists(sig)
	lit := fmt.Sprintf("func(r %s) %s { return func(%s) %s { %sr.%s(%s) } }", rt, rw.spell(sig), strings.Join(params, ", "), res, ret, x.Sel.Name, strings.Join(args, ", "))
	rw.ed.replaceFunc(rw.off(x.Pos()), rw.off(x.End()), func(inner func(int, int) string) string {
		return lit + "(" + amp + inner(from, to) + ")"
	})
}

// methodExpr writes T.M as a function literal taking the receiver first.
func (rw *rewriter) methodExpr(x *ast.SelectorExpr, sig *types.Signature) {
	rw.wrapFunc(x, sig, func(args string) string {
		recv, rest, _ := strings.Cut(args, ", ")
		return recv + "." + x.Sel.Name + "(" + rest + ")"
	})
}

// constDecl writes a const declaration's names with the values go/types
// computed: yaegi mishandles iota in some groups (several names a line,
// blank names).
func (rw *rewriter) constDecl(gd *ast.GenDecl) {
	if gd.Tok != token.CONST {
		return
	}
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		var parts []string
		for _, id := range vs.Names {
			if id.Name == "_" {
				continue
			}
			c, ok := rw.r.info.Defs[id].(*types.Const)
			if !ok {
				return
			}
			name := id.Name
			if s, ok := rw.name(c); ok {
				name = s
			}
			t := ""
			if b, ok := c.Type().(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
				t = " " + rw.spell(c.Type())
			}
			parts = append(parts, name+t+" = "+constantSource(c.Val()))
		}
		text := strings.Join(parts, "; ")
		if gd.Lparen == token.NoPos {
			text = strings.Join(parts, "; const ")
		}
		if text == "" {
			text = "_ = 0"
		}
		rw.ed.replace(rw.off(vs.Pos()), rw.off(vs.End()), text)
	}
}
