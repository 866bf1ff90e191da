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

// printfs are the formatting functions whose %T and %#v are checked, with
// the index of their format argument.
var printfs = map[string]int{
	"fmt.Printf": 0, "fmt.Sprintf": 0, "fmt.Errorf": 0, "fmt.Fprintf": 1, "fmt.Appendf": 1,
	"log.Printf": 0, "log.Fatalf": 0, "log.Panicf": 0,
}

// verb is one formatting directive that consumes an argument.
type verb struct {
	from, to int  // its bytes in the format
	typ      bool // %T or %#v: prints a type name
	plainT   bool // exactly %T
	plainV   bool // exactly %#v
}

// parseVerbs lists the directives of a format that consume arguments. ok
// is false when it uses explicit argument indexes.
func parseVerbs(format string) (verbs []verb, ok bool) {
	ok = true
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		start := i
		i++
		sharp, flags := false, false
		for ; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '#':
				sharp, flags = true, true
				continue
			case strings.IndexByte("+- 0.", c) >= 0 || (c >= '0' && c <= '9'):
				flags = true
				continue
			case c == '*':
				verbs = append(verbs, verb{})
				flags = true
				continue
			case c == '[' || c == ']':
				ok = false
				continue
			}
			break
		}
		if i >= len(format) || format[i] == '%' {
			continue
		}
		verbs = append(verbs, verb{from: start, to: i + 1, typ: format[i] == 'T' || (format[i] == 'v' && sharp),
			plainT: format[i] == 'T' && !flags, plainV: format[i] == 'v' && i-start == 2 && sharp})
	}
	return verbs, ok
}

// printfCall handles %T and %#v, whose type names the interpreter does
// not know for types declared in cells: a %T of a value whose type is
// known when the cell is checked prints that type's name, as Go would;
// others of values that may be of a cell type are refused.
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
	format := constant.StringVal(fv)
	verbs, ok := parseVerbs(format)
	args := call.Args[at+1:]
	lit, _ := ast.Unparen(call.Args[at]).(*ast.BasicLit)
	var litVerbs []verb
	if lit != nil && lit.Kind == token.STRING {
		litVerbs, _ = parseVerbs(lit.Value)
	}
	for i, v := range verbs {
		if !ok || i >= len(args) {
			break
		}
		t := rw.r.info.Types[args[i]].Type
		if c := format[v.to-1]; v.to > 0 && strings.IndexByte("vsqxXTw", c) < 0 && rw.formatterCell(t) {
			// %d of a value whose type has String: fmt prints the number,
			// the interpreter's stand-in would print its fields.
			aFrom, aTo := rw.off(args[i].Pos()), rw.off(args[i].End())
			u := rw.spell(t.Underlying())
			rw.ed.replaceFunc(aFrom, aTo, func(inner func(int, int) string) string {
				return u + "(" + inner(aFrom, aTo) + ")"
			})
			continue
		}
		if !v.typ || !rw.mayBeCellType(t) {
			continue
		}
		if v.plainV && len(litVerbs) == len(verbs) && litVerbs[i].plainV && rw.goStringer(t) {
			// %#v of a GoStringer is its GoString, which the interpreter
			// can call where fmt cannot see it.
			from := rw.off(lit.Pos()) + litVerbs[i].from
			rw.ed.replace(from, from+3, "%s")
			aFrom, aTo := rw.off(args[i].Pos()), rw.off(args[i].End())
			rw.ed.replaceFunc(aFrom, aTo, func(inner func(int, int) string) string {
				return "(" + inner(aFrom, aTo) + ").GoString()"
			})
			continue
		}
		name, known := reflectName(t)
		if v.plainT && known && len(litVerbs) == len(verbs) && litVerbs[i].plainT {
			// %T of a value of a known type: %s of the name.
			lv := litVerbs[i]
			from := rw.off(lit.Pos()) + lv.from
			rw.ed.replace(from, from+2, "%s")
			aFrom, aTo := rw.off(args[i].Pos()), rw.off(args[i].End())
			rw.ed.replaceFunc(aFrom, aTo, func(inner func(int, int) string) string {
				// Evaluated in the interpreter: a value of a cell type handed
				// to compiled code may lose its shape.
				return fmt.Sprintf("func() string { _ = %s; return %s }()", inner(aFrom, aTo), strconv.Quote(name))
			})
			continue
		}
		if sw, ok := rw.dynamicTypeName(t, args[i]); ok && v.plainT && len(litVerbs) == len(verbs) && litVerbs[i].plainT {
			from := rw.off(lit.Pos()) + litVerbs[i].from
			rw.ed.replace(from, from+2, "%s")
			aFrom, aTo := rw.off(args[i].Pos()), rw.off(args[i].End())
			rw.ed.replaceFunc(aFrom, aTo, func(inner func(int, int) string) string { return sw(inner(aFrom, aTo)) })
			continue
		}
		rw.refuse(call.Pos(), "%%T and %%#v print the interpreter's own type names for types declared in cells (and for interface values, which may hold them): print a String method's result, or use a type switch")
		return
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

// formatterCell reports whether t is a cell type with a basic underlying
// type and a String or Error method.
func (rw *rewriter) formatterCell(t types.Type) bool {
	n := rw.cellNamed(t)
	if n == nil {
		return false
	}
	if _, ok := n.Underlying().(*types.Basic); !ok {
		return false
	}
	ms := types.NewMethodSet(n)
	return ms.Lookup(rw.r.pkg, "String") != nil || ms.Lookup(rw.r.pkg, "Error") != nil
}

// dynamicTypeName writes %T of a value of a non-empty interface type, in
// a cell's own statements, as a type switch over the cell types that
// implement the interface (all of them are known while the cell is
// planned, and only named types can have methods), falling back to
// reflect for compiled types, which it names right. It returns false
// where that cannot be sure: the empty interface, generic cell types
// (their instances cannot be listed), and two cell types of one shape
// (the interpreter's type switch confuses them).
func (rw *rewriter) dynamicTypeName(t types.Type, arg ast.Expr) (func(x string) string, bool) {
	iface, ok := t.Underlying().(*types.Interface)
	if !ok || iface.NumMethods() == 0 || !rw.cellStatement(arg) {
		return nil, false
	}
	var cases []string
	var shapes []types.Type
	scope := rw.r.pkg.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		n, ok := tn.Type().(*types.Named)
		if !ok || types.IsInterface(n) {
			continue
		}
		if n.TypeParams().Len() > 0 {
			return nil, false
		}
		for _, c := range []types.Type{n, types.NewPointer(n)} {
			if !types.Implements(c, iface) {
				continue
			}
			for _, u := range shapes {
				if types.Identical(u.Underlying(), n.Underlying()) && u != types.Type(n) {
					return nil, false
				}
			}
			shapes = append(shapes, n)
			name, _ := reflectName(c)
			cases = append(cases, fmt.Sprintf("case %s: return %s", rw.spell(c), strconv.Quote(name)))
		}
	}
	it := rw.spell(t)
	return func(x string) string {
		return fmt.Sprintf("func(v %s) string { switch v.(type) { %s }; return %s.TypeName(v) }(%s)", it, strings.Join(cases, "; "), runtimePkg, x)
	}, true
}

// cellStatement reports whether x is in the running cell's statements
// (not in a function it declares, which later cells may call with values
// of types declared after it).
func (rw *rewriter) cellStatement(x ast.Expr) bool {
	return rw.inCell && rw.r.fset.Position(x.Pos()).Filename == cellFile
}

// goStringer reports whether t, a cell type, has a GoString method fmt
// would call on a value of it.
func (rw *rewriter) goStringer(t types.Type) bool {
	return rw.cellNamed(t) != nil && types.NewMethodSet(t).Lookup(rw.r.pkg, "GoString") != nil
}

// reflectName is the name reflect (and so %T) gives a type known when
// the cell is checked; false for interfaces, type parameters, and
// unnamed structs, whose dynamic or spelled form may differ.
func reflectName(t types.Type) (string, bool) {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		switch t.Kind() {
		case types.Byte:
			return "uint8", true
		case types.Rune:
			return "int32", true
		}
		if t.Info()&types.IsUntyped != 0 {
			return reflectName(types.Default(t))
		}
		return t.Name(), true
	case *types.Named:
		if _, ok := t.Underlying().(*types.Interface); ok {
			return "", false
		}
		name := t.Obj().Name()
		if t.Obj().Pkg() != nil {
			name = t.Obj().Pkg().Name() + "." + name
		}
		if ta := t.TypeArgs(); ta != nil {
			var args []string
			for i := range ta.Len() {
				a, ok := reflectName(ta.At(i))
				if !ok {
					return "", false
				}
				args = append(args, a)
			}
			name += "[" + strings.Join(args, ",") + "]"
		}
		return name, true
	case *types.Pointer:
		e, ok := reflectName(t.Elem())
		return "*" + e, ok
	case *types.Slice:
		e, ok := reflectName(t.Elem())
		return "[]" + e, ok
	case *types.Array:
		e, ok := reflectName(t.Elem())
		return fmt.Sprintf("[%d]%s", t.Len(), e), ok
	case *types.Map:
		k, ok1 := reflectName(t.Key())
		v, ok2 := reflectName(t.Elem())
		return "map[" + k + "]" + v, ok1 && ok2
	}
	return "", false
}

// mayBeCellType reports whether a value of static type t may print a
// cell-declared type's name: an interface, or a type that mentions one.
func (rw *rewriter) mayBeCellType(t types.Type) bool {
	found := false
	walkType(t, true, func(t types.Type) {
		switch t := t.(type) {
		case *types.Interface, *types.TypeParam:
			found = true
		case *types.Named:
			found = found || t.Obj().Pkg() == rw.r.pkg || types.IsInterface(t)
		}
	})
	return found
}
