package gotypes

import (
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
)

var constantValue = reflect.TypeFor[constant.Value]()

// untypedKinds gives the type of an untyped constant by its value's kind.
var untypedKinds = [...]types.BasicKind{
	constant.Bool:    types.UntypedBool,
	constant.String:  types.UntypedString,
	constant.Int:     types.UntypedInt,
	constant.Float:   types.UntypedFloat,
	constant.Complex: types.UntypedComplex,
}

// object makes the package-level object of one symbol, reading its kind
// from the form yaegi's extractor writes it in:
//
//	reflect.ValueOf(&pkg.V).Elem()           variable: addressable
//	reflect.ValueOf((*pkg.T)(nil))           type: a nil pointer to it
//	reflect.ValueOf(pkg.F)                   function
//	reflect.ValueOf(constant.MakeFromLiteral(...))
//	                                         untyped constant (string, integer, float)
//	reflect.ValueOf(pkg.C)                   typed constant (time.Second), or an untyped
//	                                         bool or complex one, which the extractor
//	                                         leaves to take its default type
//
// Anything else (stdlib.Symbols itself is reflect.ValueOf of a map) is
// a value the interpreter can read: a variable. It returns nil for a
// symbol it cannot represent (an invalid reflect.Value or an unknown
// constant), which is then left out of the package.
func (im *Importer) object(pkg *types.Package, name string, v reflect.Value) types.Object {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch {
	case v.CanAddr():
		return types.NewVar(nopos, pkg, name, im.typ(t, pkg))
	case t.Kind() == reflect.Pointer && v.IsNil():
		return im.typeName(pkg, name, t.Elem())
	case t.Kind() == reflect.Func:
		// A fresh signature, owned by pkg: the cached one of the same
		// func type may belong to another package's parameters.
		return types.NewFunc(nopos, pkg, name, im.signature(t, pkg, nil))
	case t.Implements(constantValue):
		c := v.Interface().(constant.Value)
		k := c.Kind()
		if int(k) >= len(untypedKinds) || untypedKinds[k] == types.Invalid {
			return nil
		}
		return types.NewConst(nopos, pkg, name, types.Typ[untypedKinds[k]], c)
	}
	if c := constValue(v); c != nil {
		return types.NewConst(nopos, pkg, name, im.typ(t, pkg), c)
	}
	return types.NewVar(nopos, pkg, name, im.typ(t, pkg))
}

// typeName makes the object of a type symbol. When reflect names the type
// as the symbol, in this package, it is a defined type of the package;
// otherwise the symbol is an alias (os.FileInfo = fs.FileInfo): reflect
// keeps no trace of aliases but the name mismatch.
func (im *Importer) typeName(pkg *types.Package, name string, t reflect.Type) types.Object {
	tt := im.typ(t, pkg)
	if n, ok := tt.(*types.Named); ok && n.Obj().Name() == name && n.Obj().Pkg() == pkg {
		return n.Obj()
	}
	obj := types.NewTypeName(nopos, pkg, name, nil)
	types.NewAlias(obj, tt)
	return obj
}

// constValue converts the value of a typed constant, or returns nil when
// v's kind is not one a constant can have.
func constValue(v reflect.Value) constant.Value {
	switch v.Kind() {
	case reflect.Bool:
		return constant.MakeBool(v.Bool())
	case reflect.String:
		return constant.MakeString(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return constant.MakeInt64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return constant.MakeUint64(v.Uint())
	case reflect.Float32, reflect.Float64:
		// For float32 this is the float32 value exactly, as the compiler
		// rounded the constant to it.
		return constant.MakeFloat64(v.Float())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return constant.BinaryOp(constant.MakeFloat64(real(c)), token.ADD,
			constant.MakeImag(constant.MakeFloat64(imag(c))))
	}
	return nil
}
