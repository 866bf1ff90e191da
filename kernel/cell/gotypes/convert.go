package gotypes

import (
	"go/token"
	"go/types"
	"reflect"
)

const nopos = token.NoPos

var (
	errorType = reflect.TypeFor[error]()
	byteType  = reflect.TypeFor[byte]()

	universeError = types.Universe.Lookup("error").Type()
	// Not types.Typ[types.Byte], which is uint8's entry: the universe's
	// byte is a *types.Basic of its own, identical to uint8 but printed
	// "byte".
	universeByte = types.Universe.Lookup("byte").Type()
	// The universe's any prints as "any", as the standard library now
	// spells the empty interface; it is identical to interface{}.
	universeAny = types.Universe.Lookup("any").Type()
)

// basicKinds maps the reflect kinds of the predeclared types.
var basicKinds = [...]types.BasicKind{
	reflect.Bool:          types.Bool,
	reflect.Int:           types.Int,
	reflect.Int8:          types.Int8,
	reflect.Int16:         types.Int16,
	reflect.Int32:         types.Int32,
	reflect.Int64:         types.Int64,
	reflect.Uint:          types.Uint,
	reflect.Uint8:         types.Uint8,
	reflect.Uint16:        types.Uint16,
	reflect.Uint32:        types.Uint32,
	reflect.Uint64:        types.Uint64,
	reflect.Uintptr:       types.Uintptr,
	reflect.Float32:       types.Float32,
	reflect.Float64:       types.Float64,
	reflect.Complex64:     types.Complex64,
	reflect.Complex128:    types.Complex128,
	reflect.String:        types.String,
	reflect.UnsafePointer: types.UnsafePointer,
}

// basic returns the predeclared type of kind k, or nil when k is not the
// kind of a predeclared type (array, struct...).
func basic(k reflect.Kind) types.Type {
	if int(k) < len(basicKinds) && basicKinds[k] != types.Invalid {
		return types.Typ[basicKinds[k]]
	}
	return nil
}

// typ converts t, once: the cache makes a reflect.Type one types.Type, so
// that identity holds across packages and recursive types end. ctx is the
// package whose symbol is being converted; it owns the exported fields,
// methods and parameters of unnamed types (unexported ones belong to the
// package reflect names, as go/types identifies them by package).
func (im *Importer) typ(t reflect.Type, ctx *types.Package) types.Type {
	if tt, ok := im.types[t]; ok {
		return tt
	}
	var tt types.Type
	switch {
	case t == errorType:
		tt = universeError
	case t.Name() != "" && t.PkgPath() != "":
		return im.named(t) // caches itself, before its underlying type
	case t.Name() != "":
		// A predeclared type (reflect has no PkgPath for them, nor for
		// unsafe.Pointer).
		if tt = basic(t.Kind()); tt == nil {
			tt = im.underlying(t, ctx)
		}
	default:
		tt = im.underlying(t, ctx)
	}
	im.types[t] = tt
	return tt
}

// named makes the *types.Named of a defined type in the package of its
// PkgPath. It is cached before its underlying type and methods are built,
// so that references back to it (type List struct{ next *List }) find it.
// It is not inserted in the package's scope: only the symbol table's
// names are, as only they can be used by the interpreter.
func (im *Importer) named(t reflect.Type) types.Type {
	pkg := im.pkg(t.PkgPath())
	// An instantiated generic type (atomic.Pointer[os.dirInfo], met in an
	// unexported field) keeps reflect's name, brackets included: reflect
	// has no type arguments to give, and cells cannot name it anyway.
	obj := types.NewTypeName(nopos, pkg, t.Name(), nil)
	n := types.NewNamed(obj, nil, nil)
	im.types[t] = n
	n.SetUnderlying(im.underlying(t, pkg))
	if t.Kind() != reflect.Interface { // an interface's methods are in its underlying type
		im.methods(n, t, pkg)
	}
	return n
}

// underlying builds the type structure of t, ignoring its name.
func (im *Importer) underlying(t reflect.Type, ctx *types.Package) types.Type {
	if b := basic(t.Kind()); b != nil {
		return b
	}
	switch t.Kind() {
	case reflect.Array:
		return types.NewArray(im.elem(t.Elem(), ctx), int64(t.Len()))
	case reflect.Slice:
		return types.NewSlice(im.elem(t.Elem(), ctx))
	case reflect.Pointer:
		return types.NewPointer(im.typ(t.Elem(), ctx))
	case reflect.Map:
		return types.NewMap(im.typ(t.Key(), ctx), im.typ(t.Elem(), ctx))
	case reflect.Chan:
		dir := types.SendRecv
		switch t.ChanDir() {
		case reflect.SendDir:
			dir = types.SendOnly
		case reflect.RecvDir:
			dir = types.RecvOnly
		}
		return types.NewChan(dir, im.typ(t.Elem(), ctx))
	case reflect.Func:
		return im.signature(t, ctx, nil)
	case reflect.Interface:
		return im.iface(t, ctx)
	case reflect.Struct:
		return im.strct(t, ctx)
	}
	panic("gotypes: unsupported reflect kind " + t.Kind().String() + " of " + t.String())
}

// elem converts the element type of a slice or an array. reflect cannot
// tell byte from uint8; []byte and [N]byte are by far the more common
// spelling in the APIs, so messages say []byte (the types are identical).
func (im *Importer) elem(t reflect.Type, ctx *types.Package) types.Type {
	if t == byteType {
		return universeByte
	}
	return im.typ(t, ctx)
}

// signature converts the func type t; with a receiver, t is a method's
// type from reflect, whose first parameter is the receiver. The result is
// never cached: methods need their own (go/types sets their receivers).
// Parameters have no names: reflect does not keep them.
func (im *Importer) signature(t reflect.Type, ctx *types.Package, recv *types.Var) *types.Signature {
	first := 0
	if recv != nil {
		first = 1
	}
	var params, results []*types.Var
	if n := t.NumIn() - first; n > 0 {
		params = make([]*types.Var, n)
		for i := range params {
			params[i] = types.NewParam(nopos, ctx, "", im.typ(t.In(first+i), ctx))
		}
	}
	if n := t.NumOut(); n > 0 {
		results = make([]*types.Var, n)
		for i := range results {
			results[i] = types.NewParam(nopos, ctx, "", im.typ(t.Out(i), ctx))
		}
	}
	return types.NewSignatureType(recv, nil, nil, types.NewTuple(params...), types.NewTuple(results...), t.IsVariadic())
}

// iface converts an interface type. reflect lists every method of an
// interface, embedded ones flattened in and unexported ones included
// (with their PkgPath), which is the interface's method set as go/types
// computes it.
func (im *Importer) iface(t reflect.Type, ctx *types.Package) types.Type {
	if t.NumMethod() == 0 && t.Name() == "" {
		return universeAny
	}
	methods := make([]*types.Func, t.NumMethod())
	for i := range methods {
		m := t.Method(i)
		pkg := ctx
		if m.PkgPath != "" {
			pkg = im.pkg(m.PkgPath)
		}
		methods[i] = types.NewFunc(nopos, pkg, m.Name, im.signature(m.Type, pkg, nil))
	}
	return types.NewInterfaceType(methods, nil).Complete()
}

// strct converts a struct type, unexported fields included: they decide
// comparability, composite literal errors and sizes.
func (im *Importer) strct(t reflect.Type, ctx *types.Package) types.Type {
	n := t.NumField()
	fields := make([]*types.Var, n)
	var tags []string
	for i := range fields {
		f := t.Field(i)
		pkg := ctx
		if f.PkgPath != "" {
			pkg = im.pkg(f.PkgPath)
		}
		fields[i] = types.NewField(nopos, pkg, f.Name, im.typ(f.Type, pkg), f.Anonymous)
		if f.Tag != "" {
			if tags == nil {
				tags = make([]string, n)
			}
			tags[i] = string(f.Tag)
		}
	}
	return types.NewStruct(fields, tags)
}

// methods adds the methods declared on the defined type t. reflect gives
// the exported ones: those in t's method set have a value receiver, those
// only in *t's a pointer receiver. reflect's method sets also hold the
// methods promoted from embedded fields, which go/types computes itself:
// those are left out (see promoted). Unexported methods are invisible to
// reflect; a cell cannot call them anyway, and interfaces with unexported
// methods cannot be implemented outside their package.
func (im *Importer) methods(n *types.Named, t reflect.Type, pkg *types.Package) {
	pt := reflect.PointerTo(t)
	if pt.NumMethod() == 0 {
		return
	}
	var embedded []reflect.Type
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.Anonymous {
				embedded = append(embedded, f.Type)
			}
		}
	}
	for i := 0; i < pt.NumMethod(); i++ {
		m := pt.Method(i)
		_, onValue := t.MethodByName(m.Name)
		if promoted(embedded, m.Name, onValue) {
			continue
		}
		var rt types.Type = n
		if !onValue {
			rt = types.NewPointer(n)
		}
		recv := types.NewVar(nopos, pkg, "", rt)
		n.AddMethod(types.NewFunc(nopos, pkg, m.Name, im.signature(m.Type, pkg, recv)))
	}
}

// promoted reports whether go/types would promote method name from the
// embedded fields alone, into the same method sets reflect has it in
// (onValue: in t's, else only in *t's): then t does not need it declared.
// When t declares the method itself and one embedded field has it too,
// leaving it out is harmless: the call resolves to the same code. When
// several embedded fields have it, go/types would find the selector
// ambiguous or at a depth reflect does not tell, so it is declared on t.
func promoted(embedded []reflect.Type, name string, onValue bool) bool {
	found, value := 0, false
	for _, e := range embedded {
		if _, ok := e.MethodByName(name); ok {
			// An embedded pointer or interface, or the value method set
			// of an embedded value: promoted to both t and *t.
			found, value = found+1, true
		} else if e.Kind() != reflect.Pointer && e.Kind() != reflect.Interface {
			if _, ok := reflect.PointerTo(e).MethodByName(name); ok {
				// A pointer method of an embedded value: *t only.
				found++
			}
		}
	}
	return found == 1 && value == onValue
}
