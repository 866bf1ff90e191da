package gotypes

import (
	"fmt"
	"go/constant"
	"go/types"
	"io"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// TestEveryPackage imports every package the kernel bundles and checks
// that every symbol became an object of the kind its reflect form says,
// and that types agree with reflect on what a cell can observe: method
// sets, comparability, size, the interfaces they implement. It is what
// catches a reflect form the importer does not handle.
func TestEveryPackage(t *testing.T) {
	syms := kernelSymbols()
	srcs := genericSources(t)
	im := NewImporter(syms, srcs)
	sizes := types.SizesFor("gc", runtime.GOARCH)
	ifaces := probeInterfaces(t, im)

	keys := make([]string, 0, len(syms))
	for k := range syms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var objects, types_ int
	for _, key := range keys {
		i := strings.LastIndexByte(key, '/')
		if i < 0 {
			t.Logf("skipped %q: not a package (yaegi's own table)", key)
			continue
		}
		path, name := key[:i], key[i+1:]
		pkg, err := im.Import(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if pkg.Name() != name || pkg.Path() != path || !pkg.Complete() {
			t.Errorf("%s: package %s %q, complete %v", key, pkg.Name(), pkg.Path(), pkg.Complete())
		}
		if _, ok := srcs[path]; ok {
			continue // from source: its table is yaegi's non-generic rest, empty
		}
		for sym, v := range syms[key] {
			if strings.HasPrefix(sym, "_") {
				continue
			}
			objects++
			where := path + "." + sym
			obj := pkg.Scope().Lookup(sym)
			if obj == nil {
				t.Errorf("%s: missing", where)
				continue
			}
			if err := checkObject(obj, v); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if tn, ok := obj.(*types.TypeName); ok {
				types_++
				if err := checkType(tn.Type(), v.Type().Elem(), sizes, ifaces); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
		}
	}
	t.Logf("%d packages, %d symbols (%d types), %d reflect types converted", len(keys), objects, types_, len(im.types))
}

// checkObject checks obj's kind against v's form in the table.
func checkObject(obj types.Object, v reflect.Value) error {
	rt := v.Type()
	switch {
	case v.CanAddr():
		if _, ok := obj.(*types.Var); !ok {
			return fmt.Errorf("a variable became %T", obj)
		}
	case rt.Kind() == reflect.Pointer && v.IsNil():
		if _, ok := obj.(*types.TypeName); !ok {
			return fmt.Errorf("a type became %T", obj)
		}
	case rt.Kind() == reflect.Func:
		f, ok := obj.(*types.Func)
		if !ok {
			return fmt.Errorf("a function became %T", obj)
		}
		sig := f.Type().(*types.Signature)
		if sig.Params().Len() != rt.NumIn() || sig.Results().Len() != rt.NumOut() || sig.Variadic() != rt.IsVariadic() {
			return fmt.Errorf("signature %s for %s", sig, rt)
		}
	default:
		c, isConst := obj.(*types.Const)
		if cv, ok := v.Interface().(constant.Value); ok {
			if !isConst || c.Val().ExactString() != cv.ExactString() || c.Type().(*types.Basic).Info()&types.IsUntyped == 0 {
				return fmt.Errorf("untyped constant %s became %v", cv, obj)
			}
			return nil
		}
		if isConst {
			if want := rawString(v); constString(c.Val()) != want {
				return fmt.Errorf("constant %s, want %s", c.Val(), want)
			}
			return nil
		}
		if _, ok := obj.(*types.Var); !ok {
			return fmt.Errorf("a %s value became %T", rt, obj)
		}
	}
	return nil
}

// rawString prints v's value, without its type's String method.
func rawString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return fmt.Sprint(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprint(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fmt.Sprint(v.Uint())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprint(v.Float())
	case reflect.Complex64, reflect.Complex128:
		return fmt.Sprint(v.Complex())
	case reflect.String:
		return v.String()
	}
	return "not a constant kind: " + v.Kind().String()
}

// constString prints a constant as fmt prints the Go value.
func constString(c constant.Value) string {
	switch c.Kind() {
	case constant.String:
		return constant.StringVal(c)
	case constant.Float:
		f, _ := constant.Float64Val(c)
		return fmt.Sprint(f)
	case constant.Complex:
		re, _ := constant.Float64Val(constant.Real(c))
		im, _ := constant.Float64Val(constant.Imag(c))
		return fmt.Sprint(complex(re, im))
	}
	return c.ExactString()
}

// probeInterfaces are interfaces to test the types against, both in
// reflect and in go/types.
func probeInterfaces(t *testing.T, im *Importer) map[reflect.Type]*types.Interface {
	probes := map[reflect.Type]*types.Interface{}
	for path, names := range map[string][]string{"io": {"Reader", "Writer", "Closer"}, "fmt": {"Stringer"}} {
		p, err := im.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			rt := kernelSymbols()[path+"/"+path][n].Type().Elem()
			probes[rt] = p.Scope().Lookup(n).Type().Underlying().(*types.Interface)
		}
	}
	probes[reflect.TypeFor[error]()] = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	if len(probes) != 5 || probes[reflect.TypeFor[io.Writer]()] == nil {
		t.Fatal("probe interfaces missing")
	}
	return probes
}

// checkType compares what go/types and reflect say of a type and of a
// pointer to it.
func checkType(tt types.Type, rt reflect.Type, sizes types.Sizes, ifaces map[reflect.Type]*types.Interface) error {
	if err := sameMethods(types.NewMethodSet(tt), rt); err != nil {
		return err
	}
	if err := sameMethods(types.NewMethodSet(types.NewPointer(tt)), reflect.PointerTo(rt)); err != nil {
		return err
	}
	if types.Comparable(tt) != rt.Comparable() {
		return fmt.Errorf("comparable %v, reflect says %v", types.Comparable(tt), rt.Comparable())
	}
	if s := sizes.Sizeof(tt); s != int64(rt.Size()) {
		return fmt.Errorf("size %d, reflect says %d", s, rt.Size())
	}
	if a := sizes.Alignof(tt); a != int64(rt.Align()) {
		return fmt.Errorf("align %d, reflect says %d", a, rt.Align())
	}
	for ri, ti := range ifaces {
		for _, p := range []struct {
			tt types.Type
			rt reflect.Type
		}{{tt, rt}, {types.NewPointer(tt), reflect.PointerTo(rt)}} {
			if types.Implements(p.tt, ti) != p.rt.Implements(ri) {
				return fmt.Errorf("%s implements %s: %v, reflect says %v", p.tt, ri, types.Implements(p.tt, ti), p.rt.Implements(ri))
			}
		}
	}
	return nil
}

// sameMethods compares the exported method names of a go/types method set
// with reflect's (which, for an interface, has the unexported ones too).
func sameMethods(ms *types.MethodSet, rt reflect.Type) error {
	var got, want []string
	for i := 0; i < ms.Len(); i++ {
		if o := ms.At(i).Obj(); o.Exported() {
			got = append(got, o.Name())
		}
	}
	for i := 0; i < rt.NumMethod(); i++ {
		if m := rt.Method(i); m.IsExported() {
			want = append(want, m.Name)
		}
	}
	sort.Strings(got) // go/types sorts by Id, which puts unexported ones apart
	if g, w := strings.Join(got, " "), strings.Join(want, " "); g != w {
		return fmt.Errorf("method set of %s:\n  %s\nreflect has\n  %s", rt, g, w)
	}
	return nil
}
