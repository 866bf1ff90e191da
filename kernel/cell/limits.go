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
	params, names := []string{}, []string{}
	f := ""
	if !builtin {
		f = rw.temp("F")
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
		params, names = append(params, n+" "+rw.spell(t)), append(names, n)
	}
	ell := ""
	if call.Ellipsis.IsValid() {
		ell = "..."
	}
	callee := f
	if builtin {
		callee = rw.r.texts[rw.r.fileIndex(call.Fun.Pos())][rw.off(call.Fun.Pos()):rw.off(call.Fun.End())]
	}
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
