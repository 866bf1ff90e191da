package cell

import (
	"fmt"
	"go/ast"
	"go/types"
)

// Values of cell types handed to compiled code (fmt above all): what the
// interpreter hands over faithfully passes, what it can rewrite into an
// equivalent is rewritten, the rest is refused by name.

// compiledCall checks a call of compiled code (a function or method of an
// imported package) with what the interpreter cannot hand over faithfully.
func (rw *rewriter) compiledCall(call *ast.CallExpr, stack []ast.Node) {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return
	}
	fn, ok := rw.r.info.Uses[id].(*types.Func)
	if ok && fn.Pkg() == rw.r.pkg {
		rw.genericMethodCall(call, fn)
	}
	if !ok || fn.Pkg() == nil || fn.Pkg() == rw.r.pkg {
		return
	}
	if named := recvNamed(fn); named != nil && named.Obj().Pkg() == rw.r.pkg {
		return // a method of a cell type, promoted from an embedded compiled one
	}
	sig, ok := rw.r.info.Types[call.Fun].Type.(*types.Signature)
	if !ok {
		return
	}
	qualified := fn.Pkg().Path() + "." + fn.Name()
	_, isPrintf := printfs[qualified]
	loop := enclosingLoop(stack)
	for i, arg := range call.Args {
		pt := paramType(sig, i, call.Ellipsis.IsValid())
		if lit, ok := ast.Unparen(arg).(*ast.FuncLit); ok && loop != nil && rw.refersInside(lit, loop) {
			rw.hoistFuncLit(lit, stack)
		}
		if pt == nil || !types.IsInterface(pt) {
			continue
		}
		at := rw.r.info.Types[arg].Type
		switch {
		case fn.Pkg().Path() == "errors" && rw.mentionsCell(at, false):
			rw.refuse(call.Pos(), "%s with values of types declared in cells is not supported: the interpreter does not show their methods (Error, Is, As, Unwrap) to the errors package; compare with == or a type switch", qualified)
			return
		case rw.cellMethodsInside(at, printers[qualified] || isPrintf) && rw.wrapElements(arg, at, qualified):
		case rw.cellMethodsInside(at, true) && rw.printMap(arg, at, qualified):
		case rw.cellMethodsInside(at, printers[qualified] || isPrintf):
			rw.refuse(call.Pos(), "%s gets a %s, whose elements have methods declared in a cell: compiled code cannot see those methods in the interpreter; pass the elements one by one (or their String())", qualified, at)
			return
		case rw.pointerOnlyFormatter(at) && rw.asUnderlying(arg, at):
		case rw.pointerOnlyFormatter(at):
			rw.refuse(call.Pos(), "%s gets a %s whose String or Error method has a pointer receiver: the interpreter would call it where Go does not; pass &value or call the method", qualified, at)
			return
		case rw.cellResultWithMethods(arg, at) && (printers[qualified] || isPrintf):
			// A conversion keeps the type the interpreter loses on a
			// call's result.
			from, to := rw.off(arg.Pos()), rw.off(arg.End())
			name := rw.spell(at)
			rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
				return name + "(" + inner(from, to) + ")"
			})
		case rw.cellResultWithMethods(arg, at):
			rw.refuse(call.Pos(), "%s gets the result of a call, of type %s with methods declared in a cell: the interpreter loses its methods there; assign it to a variable first", qualified, at)
			return
		}
	}
	if qualified == "fmt.Errorf" {
		rw.errorfWraps(call)
	}
}

// errorfWraps refuses fmt.Errorf of values of cell types with methods:
// the interpreter hands them to fmt without their methods, so %w and %v
// would print their fields (converting them to error first does not help).
func (rw *rewriter) errorfWraps(call *ast.CallExpr) {
	for _, a := range call.Args[1:] {
		if rw.mentionsCell(rw.r.info.Types[a].Type, true) {
			rw.refuse(call.Pos(), "fmt.Errorf with values of types declared in cells is not supported: the interpreter does not show their methods to fmt's %%w; wrap fmt.Errorf(\"%%s: %%w\", v.Error(), sentinel) or return v itself")
			return
		}
	}
}

// paramType is the type of the parameter argument i is assigned to.
func paramType(sig *types.Signature, i int, ellipsis bool) types.Type {
	n := sig.Params().Len()
	if n == 0 {
		return nil
	}
	if sig.Variadic() && i >= n-1 {
		last := sig.Params().At(n - 1).Type()
		if ellipsis {
			return last
		}
		if s, ok := last.(*types.Slice); ok {
			return s.Elem()
		}
		return nil
	}
	if i < n {
		return sig.Params().At(i).Type()
	}
	return nil
}

// cellNamed returns t as a named type declared in a cell, or nil.
func (rw *rewriter) cellNamed(t types.Type) *types.Named {
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() == rw.r.pkg {
		return n
	}
	return nil
}

// formats reports whether fmt would call a method of n's: Error, String,
// Format or GoString.
func formats(n *types.Named) bool {
	ms := types.NewMethodSet(types.NewPointer(n))
	for i := range ms.Len() {
		switch ms.At(i).Obj().Name() {
		case "Error", "String", "Format", "GoString":
			return true
		}
	}
	return false
}

func hasMethods(n *types.Named) bool {
	return types.NewMethodSet(types.NewPointer(n)).Len() > 0
}

// mentionsCell reports whether t is or contains a cell type (with
// methods only, when methods is set).
func (rw *rewriter) mentionsCell(t types.Type, methods bool) bool {
	found := false
	walkType(t, true, func(t types.Type) {
		if n := rw.cellNamed(t); n != nil && (!methods || hasMethods(n)) {
			found = true
		}
	})
	return found
}

// cellMethodsInside reports whether a composite t holds values of a cell
// type with methods (a slice, map, array, struct field or channel of them).
// With formatting set (the callee is fmt's or log's), only the methods fmt
// calls count.
func (rw *rewriter) cellMethodsInside(t types.Type, formatting bool) bool {
	if t == nil {
		return false
	}
	if n := rw.cellNamed(t); n != nil {
		// fmt prints a value with its own String or Error, not its parts.
		ms := types.NewMethodSet(n)
		if ms.Lookup(rw.r.pkg, "String") != nil || ms.Lookup(rw.r.pkg, "Error") != nil {
			return false
		}
	}
	found := false
	walkType(t, true, func(u types.Type) {
		if u == t {
			return
		}
		if n := rw.cellNamed(u); n != nil && hasMethods(n) && (!formatting || formats(n)) {
			if p, ok := t.(*types.Pointer); ok && types.Identical(p.Elem(), u) {
				return // *T itself: handed over as T is
			}
			found = true
		}
	})
	return found
}

// pointerOnlyFormatter reports whether t is a cell type whose String or
// Error method is declared on *t only.
func (rw *rewriter) pointerOnlyFormatter(t types.Type) bool {
	n := rw.cellNamed(t)
	if n == nil {
		return false
	}
	vs, ps := types.NewMethodSet(n), types.NewMethodSet(types.NewPointer(n))
	for _, name := range []string{"String", "Error", "Format", "GoString"} {
		if vs.Lookup(rw.r.pkg, name) == nil && ps.Lookup(rw.r.pkg, name) != nil {
			return true
		}
	}
	return false
}

// cellResultWithMethods reports whether arg is a function or method call
// (not a conversion) whose result is a cell type with methods.
func (rw *rewriter) cellResultWithMethods(arg ast.Expr, t types.Type) bool {
	call, ok := ast.Unparen(arg).(*ast.CallExpr)
	if !ok || rw.r.info.Types[call.Fun].IsType() {
		return false
	}
	n := rw.cellNamed(t)
	return n != nil && hasMethods(n)
}

// walkType calls f on t and every type it is built from: type
// arguments, elements, fields, and (when intoNamed) the struct under a
// named type.
func walkType(t types.Type, intoNamed bool, f func(types.Type)) {
	seen := map[types.Type]bool{}
	var visit func(t types.Type)
	visit = func(t types.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		f(t)
		switch t := t.(type) {
		case *types.Alias:
			visit(types.Unalias(t))
		case *types.Named:
			if ta := t.TypeArgs(); ta != nil {
				for i := range ta.Len() {
					visit(ta.At(i))
				}
			}
			if _, ok := t.Underlying().(*types.Struct); ok && intoNamed {
				visit(t.Underlying())
			}
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
}

// hoistFuncLit moves a function literal that compiled code receives in a
// loop into a variable of its own before the statement: yaegi then gives
// each iteration's closure its own copies of the loop's variables.
func (rw *rewriter) hoistFuncLit(lit *ast.FuncLit, stack []ast.Node) {
	var stmt ast.Stmt
	for i := len(stack) - 1; i >= 0; i-- {
		if s, ok := stack[i].(ast.Stmt); ok {
			stmt = s
			break
		}
	}
	_, simple := stmt.(*ast.ExprStmt)
	if !simple || rw.line(stmt.Pos()) != rw.line(lit.Pos()) {
		rw.refuse(lit.Pos(), "a function literal that uses the loop's variables, passed to compiled code inside a loop, must be a statement's own argument: assign it to a variable first (f := func() {...}) and pass f")
		return
	}
	name := rw.temp("F")
	from, to := rw.off(lit.Pos()), rw.off(lit.End())
	seq := rw.ed.replace(from, to, name)
	rw.ed.insert(rw.off(stmt.Pos()), "")
	rw.ed.edits[len(rw.ed.edits)-1].text = func(func(int, int) string) string {
		return name + " := " + rw.ed.renderSkip(from, to, seq) + "; "
	}
}

// printers print their operands with %v.
var printers = map[string]bool{
	"fmt.Print": true, "fmt.Println": true, "fmt.Sprint": true, "fmt.Sprintln": true,
	"fmt.Fprint": true, "fmt.Fprintln": true, "log.Print": true, "log.Println": true,
}

// wrapElements hands a slice or array of a cell type with an Error or
// String method to a printer as the []string of those methods' results,
// which prints the same; the interpreter would hand the elements over
// without their methods.
func (rw *rewriter) wrapElements(arg ast.Expr, t types.Type, fn string) bool {
	if !printers[fn] || rw.cellNamed(t) != nil {
		return false
	}
	var elem types.Type
	switch u := t.Underlying().(type) {
	case *types.Slice:
		elem = u.Elem()
	case *types.Array:
		elem = u.Elem()
	default:
		return false
	}
	if rw.cellNamed(elem) == nil {
		return false
	}
	ms := types.NewMethodSet(elem)
	method := ""
	for _, m := range []string{"Error", "String"} {
		if ms.Lookup(rw.r.pkg, m) != nil {
			method = m
			break
		}
	}
	if method == "" || ms.Lookup(rw.r.pkg, "Format") != nil {
		return false
	}
	from, to := rw.off(arg.Pos()), rw.off(arg.End())
	spelled := rw.spell(t)
	rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
		return fmt.Sprintf("func(s %s) []string { r := make([]string, len(s)); for i := 0; i < len(s); i++ { r[i] = s[i].%s() }; return r }(%s)", spelled, method, inner(from, to))
	})
	return true
}

// asUnderlying hands a printer a value of a cell type whose String (or
// Error) has a pointer receiver as its underlying type, which prints as
// Go prints the value (without the method); false when that type holds
// values with methods of their own.
func (rw *rewriter) asUnderlying(arg ast.Expr, t types.Type) bool {
	u := t.Underlying()
	if rw.cellMethodsInside(u, true) || rw.mentionsCell(u, true) {
		return false
	}
	name := rw.spell(u)
	from, to := rw.off(arg.Pos()), rw.off(arg.End())
	rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
		return "(" + name + ")(" + inner(from, to) + ")"
	})
	return true
}

// genericMethodCall refuses a method of a generic cell type that returns
// another instantiation of a generic cell type: yaegi builds that value
// with the wrong shape.
func (rw *rewriter) genericMethodCall(call *ast.CallExpr, fn *types.Func) {
	sig, ok := fn.Origin().Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return
	}
	recv := sig.Recv().Type()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	rn := rw.cellNamed(recv)
	if rn == nil || rn.TypeArgs().Len() == 0 {
		return
	}
	for i := range sig.Results().Len() {
		walkType(sig.Results().At(i).Type(), false, func(t types.Type) {
			if n := rw.cellNamed(t); n != nil && n.TypeArgs().Len() > 0 && !types.Identical(n, rn) {
				rw.refuse(call.Pos(), "%s returns a %s from a %s: the interpreter builds such values wrongly; write it as a generic function", fn.Name(), n, rn)
			}
		})
	}
}

// hiddenFmt is the kernel's own import name for fmt in rewritten code.
const hiddenFmt = "_ppffmt"

// lineSpacers put a space between every two operands, so an operand
// printed as a string reads the same as the value it stands for.
var lineSpacers = map[string]bool{"fmt.Println": true, "fmt.Sprintln": true, "fmt.Fprintln": true, "log.Println": true}

// printMap hands a Println a map whose keys or values are of a cell type
// with String or Error as the text fmt would print: "map[" and the pairs
// in fmt's key order (here: integer or string keys), each printed by
// fmt, one at a time, as it prints them.
func (rw *rewriter) printMap(arg ast.Expr, t types.Type, fn string) bool {
	m, ok := t.Underlying().(*types.Map)
	if !ok || !lineSpacers[fn] || rw.cellNamed(t) != nil {
		return false
	}
	kb, ok := m.Key().Underlying().(*types.Basic)
	if !ok || kb.Info()&(types.IsInteger|types.IsString) == 0 {
		return false
	}
	for _, x := range []types.Type{m.Key(), m.Elem()} {
		if rw.cellMethodsInside(x, true) || rw.pointerOnlyFormatter(x) {
			return false
		}
	}
	from, to := rw.off(arg.Pos()), rw.off(arg.End())
	mt, kt := rw.spell(t), rw.spell(m.Key())
	rw.ed.replaceFunc(from, to, func(inner func(int, int) string) string {
		return fmt.Sprintf(`func(m %s) string { keys := make([]%s, 0, len(m)); for k := range m { keys = append(keys, k) }; `+
			`for i := 1; i < len(keys); i++ { for j := i; j > 0 && keys[j] < keys[j-1]; j-- { keys[j], keys[j-1] = keys[j-1], keys[j] } }; `+
			`s := "map["; for i, k := range keys { if i > 0 { s += " " }; s += %s.Sprint(k) + ":" + %s.Sprint(m[k]) }; return s + "]" }(%s)`,
			mt, kt, hiddenFmt, hiddenFmt, inner(from, to))
	})
	return true
}
