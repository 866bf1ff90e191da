package gotypes

import (
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

type (
	celsius float64
	flag    bool
	cplx    complex64
	node    struct {
		Next *node // recursive through the cache
		Kids []node
	}
	walker interface {
		Walk(node) walker // recursive interface
		hidden()          // unexported interface method
	}
	handler func(string) error
	ptrTo   unsafe.Pointer
)

func (n node) Len() int        { return len(n.Kids) }
func (n *node) Add(k node)     { n.Kids = append(n.Kids, k) }
func (h handler) Serve(string) {}

var hook = func(int) bool { return true }

// TestForms builds a table with every form a symbol can take, including
// the ones the standard library's tables happen not to use (typed bool,
// float and complex constants, untyped bool and complex ones), and checks
// the objects, then uses them from a cell.
func TestForms(t *testing.T) {
	syms := map[string]map[string]reflect.Value{
		"example.com/forms/forms": {
			"B":       reflect.ValueOf(true),
			"F32":     reflect.ValueOf(float32(0.1)),
			"C":       reflect.ValueOf(complex(1, 2)),
			"Temp":    reflect.ValueOf(celsius(36.5)),
			"Yes":     reflect.ValueOf(flag(true)),
			"Z":       reflect.ValueOf(cplx(3i)),
			"UB":      reflect.ValueOf(constant.MakeBool(true)),
			"UC":      reflect.ValueOf(constant.MakeImag(constant.MakeInt64(2))),
			"UF":      reflect.ValueOf(constant.MakeFromLiteral("1e400", token.FLOAT, 0)),
			"UR":      reflect.ValueOf(constant.MakeFromLiteral("'a'", token.CHAR, 0)),
			"Unknown": reflect.ValueOf(constant.MakeUnknown()),
			"Invalid": {},
			"M":       reflect.ValueOf(map[string]int{}),
			"Hook":    reflect.ValueOf(&hook).Elem(),
			"Node":    reflect.ValueOf((*node)(nil)),
			"Walker":  reflect.ValueOf((*walker)(nil)),
			"Handler": reflect.ValueOf((*handler)(nil)),
			"Ptr":     reflect.ValueOf((*ptrTo)(nil)),
			"Celsius": reflect.ValueOf((*celsius)(nil)),
			"UPtr":    reflect.ValueOf((*unsafe.Pointer)(nil)),
			"Any":     reflect.ValueOf((*any)(nil)),
			"Chans":   reflect.ValueOf(func(<-chan int, chan<- string, chan [2]byte) {}),
			"Struct": reflect.ValueOf(func() struct {
				A int `json:"a"`
			} {
				return struct {
					A int `json:"a"`
				}{}
			}),
			"_Wrap": reflect.ValueOf((*struct{})(nil)),
		},
	}
	im := NewImporter(syms, nil)
	p := mustImport(t, im, "example.com/forms")
	for name, want := range map[string]string{
		"B":       "const example.com/forms.B bool = true",
		"F32":     "const example.com/forms.F32 float32 = 0.1",
		"C":       "const example.com/forms.C complex128 = (1 + 2i)",
		"Temp":    "const example.com/forms.Temp github.com/ppfkit/ppf/kernel/cell/gotypes.celsius = 36.5",
		"Yes":     "const example.com/forms.Yes github.com/ppfkit/ppf/kernel/cell/gotypes.flag = true",
		"Z":       "const example.com/forms.Z github.com/ppfkit/ppf/kernel/cell/gotypes.cplx = (0 + 3i)",
		"UB":      "const example.com/forms.UB untyped bool = true",
		"UC":      "const example.com/forms.UC untyped complex = (0 + 2i)",
		"UF":      "const example.com/forms.UF untyped float = 1e+400",
		"UR":      "const example.com/forms.UR untyped int = 97",
		"M":       "var example.com/forms.M map[string]int",
		"Hook":    "var example.com/forms.Hook func(int) bool",
		"Handler": "type example.com/forms.Handler = github.com/ppfkit/ppf/kernel/cell/gotypes.handler",
		"UPtr":    "type example.com/forms.UPtr = unsafe.Pointer",
		"Any":     "type example.com/forms.Any = any",
		"Chans":   "func example.com/forms.Chans(<-chan int, chan<- string, chan [2]byte)",
		"Struct":  "func example.com/forms.Struct() struct{A int \"json:\\\"a\\\"\"}",
	} {
		obj := p.Scope().Lookup(name)
		if obj == nil {
			t.Errorf("%s: missing", name)
			continue
		}
		got := obj.String()
		if c, ok := obj.(*types.Const); ok {
			got += " = " + c.Val().String()
		}
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	for _, name := range []string{"Unknown", "Invalid", "_Wrap"} {
		if obj := p.Scope().Lookup(name); obj != nil {
			t.Errorf("%s: %v, want it left out", name, obj)
		}
	}
	f32 := p.Scope().Lookup("F32").(*types.Const).Val()
	if v, _ := constant.Float64Val(f32); v != float64(float32(0.1)) {
		t.Errorf("F32 = %v, want the float32 value exactly", v)
	}

	node := types.Unalias(p.Scope().Lookup("Node").Type()).(*types.Named)
	if got := types.TypeString(node.Underlying(), nil); got != "struct{Next *github.com/ppfkit/ppf/kernel/cell/gotypes.node; Kids []github.com/ppfkit/ppf/kernel/cell/gotypes.node}" {
		t.Errorf("node: %s", got)
	}
	var methods []string
	for i := 0; i < node.NumMethods(); i++ {
		methods = append(methods, node.Method(i).String())
	}
	if got := strings.Join(methods, "; "); got != "func (*github.com/ppfkit/ppf/kernel/cell/gotypes.node).Add(github.com/ppfkit/ppf/kernel/cell/gotypes.node); func (github.com/ppfkit/ppf/kernel/cell/gotypes.node).Len() int" {
		t.Errorf("node's methods: %s", got)
	}
	walker := types.Unalias(p.Scope().Lookup("Walker").Type()).Underlying().(*types.Interface)
	if walker.NumMethods() != 2 || walker.Method(0).Name() != "Walk" || walker.Method(1).Pkg().Path() != "github.com/ppfkit/ppf/kernel/cell/gotypes" {
		t.Errorf("walker: %v", walker)
	}

	mustCheck(t, im, `package p
import "example.com/forms"
const b = forms.UB && forms.B
const x = forms.UF / 1e399
const r rune = forms.UR
var c complex64 = forms.UC
var f float32 = forms.F32
var temp float64 = float64(forms.Temp) + 0.5
func g(n forms.Node, w forms.Walker, h forms.Handler) {
	n.Add(n)
	_ = n.Len() + len(forms.M)
	w = w.Walk(*n.Next)
	h.Serve("x")
	_ = forms.Hook(3) && forms.Yes == true
	var _ forms.Ptr = forms.Ptr(nil)
	var _ forms.UPtr
	var _ forms.Any = 1
	forms.Chans(nil, nil, make(chan [2]byte))
	_ = forms.Struct().A
}`)
	errs, _, _ := check(t, im, `package p
import "example.com/forms"
var n = forms.Node{}.Add`)
	if len(errs) != 1 || errs[0] != "cannot call pointer method Add on forms.Node" {
		t.Errorf("errors: %q", errs)
	}
}
