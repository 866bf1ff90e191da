package cell

import (
	"context"
	"strings"
	"testing"
)

// seq runs cells in one engine and returns each cell's outputs, with its
// error as "error:Name:Value".
func seq(t *testing.T, cells ...string) []string {
	t.Helper()
	e := newEngine(t)
	var out []string
	for _, c := range cells {
		got, _ := run(t, e, c)
		out = append(out, got)
	}
	return out
}

func TestFrontEnd(t *testing.T) {
	cases := []struct {
		name  string
		cells []string
		want  []string
	}{
		{"closures over range int", []string{`import "fmt"
var fs []func() int
for i := range 3 { fs = append(fs, func() int { return i }) }`, `for _, f := range fs { fmt.Print(f(), " ") }`}, []string{"", "stdout:0 1 2 "}},
		{"closures over 3-clause", []string{`import "fmt"
var fs []func() int
for i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }
for _, f := range fs { fmt.Print(f(), " ") }`}, []string{"stdout:0 1 2 "}},
		{"closures over range slice", []string{`import "fmt"
var fs []func() string
for _, s := range []string{"a", "b"} { fs = append(fs, func() string { return s }) }
for _, f := range fs { fmt.Print(f()) }`}, []string{"stdout:ab"}},
		{"failed cell keeps state", []string{`a := 5`, `a := 10
b := undefinedX`, `a`}, []string{"", "error:CompileError:line 2:6: undefined: undefinedX", "result:5[]"}},
		{"redefine type", []string{`import "fmt"
type T struct{ A int }`, `type T struct{ B string }`, `fmt.Printf("%+v\n", T{B: "q"})`}, []string{"", "", "stdout:{B:q}\n"}},
		{"redefine func late binding", []string{`import "fmt"
func f() int { return 1 }
func g() int { return f() * 10 }`, `func f() int { return 2 }`, `fmt.Println(g())`}, []string{"", "", "stdout:20\n"}},
		{"redefine method", []string{`import "fmt"
type P struct{ X int }
func (p P) String() string { return "one" }
p := P{1}`, `func (p P) String() string { return "two" }`, `fmt.Println(p)`}, []string{"", "", "stdout:two\n"}},
		{"goroutine panic", []string{`import "time"
go func() { panic("boom") }()
time.Sleep(time.Second)`, `1 + 1`}, []string{"error:Panic:boom", "result:2[]"}},
		{"index error", []string{`s := []int{1, 2, 3}
i := 5
_ = s[i]`}, []string{"error:Panic:runtime error: index out of range [5] with length 3"}},
		{"nil map", []string{`var m map[string]int
m["a"] = 1`}, []string{"error:Panic:assignment to entry in nil map"}},
		{"nil deref", []string{`type P struct{ X int }
var p *P
_ = p.X`}, []string{"error:Panic:runtime error: invalid memory address or nil pointer dereference"}},
		{"undefined", []string{`z := undefinedThing + 1`}, []string{"error:CompileError:line 1:6: undefined: undefinedThing"}},
		{"two-value in if", []string{`import "strconv"
if v, err := strconv.Atoi("4"); err == nil { _ = v }`, `7`}, []string{"", "result:7[]"}},
		{"two values shown", []string{`import "strconv"
strconv.Atoi("42")`}, []string{"result:42, <nil>[]"}},
		{"slices", []string{`import ("fmt"; "slices")
s := []int{3, 1, 2}
fmt.Println(slices.Index(s, 2), slices.Contains(s, 9))`}, []string{"stdout:2 false\n"}},
		{"generic inference from func arg", []string{`import "fmt"
func Map[T, U any](xs []T, f func(T) U) []U { var r []U; for _, x := range xs { r = append(r, f(x)) }; return r }
fmt.Println(Map([]int{1, 2}, func(i int) string { return fmt.Sprint(i * 2) }))`}, []string{"stdout:[2 4]\n"}},
		{"named constraint", []string{`import "fmt"
type Number interface{ ~int | ~float64 }
func Sum[T Number](xs []T) T { var s T; for _, x := range xs { s += x }; return s }
fmt.Println(Sum([]int{1, 2, 3}), Sum([]float64{1.5, 2}))`}, []string{"stdout:6 3.5\n"}},
		{"var of interface", []string{`import "fmt"
type Greeter interface{ Greet() string }
type D struct{}
func (D) Greet() string { return "hi" }
d := D{}
var g Greeter = d
fmt.Println(g.Greet())`}, []string{"stdout:hi\n"}},
		{"helper calling helper reading var", []string{`import "fmt"
n := 3`, `func a() int { return n * 2 }
func b() int { return a() + 1 }`, `fmt.Println(b())`}, []string{"", "", "stdout:7\n"}},
		{"variable of a package the cells did not import", []string{`import ("fmt"; "os")
fi, err := os.Stat(".")`, `fmt.Println(fi.IsDir(), err)`}, []string{"", "stdout:true <nil>\n"}},
		{"%T of an interface value in a cell's statements", []string{`import ("errors"; "fmt")
type Shape interface{ Area() float64 }
type Sq struct{ S float64 }
func (q Sq) Area() float64 { return q.S * q.S }
type Disk struct{ R float64 }
func (d *Disk) Area() float64 { return 3 * d.R * d.R }
for _, s := range []Shape{Sq{2}, &Disk{1}} { fmt.Printf("%T ", s) }
var err error = errors.New("x")
fmt.Printf("%T\n", err)`}, []string{"stdout:main.Sq *main.Disk *errors.errorString\n"}},
		{"%T of an interface value inside a function is refused", []string{`import "fmt"
type Shape interface{ Area() float64 }
func name(s Shape) string { return fmt.Sprintf("%T", s) }`}, []string{"error:Unsupported:line 3: %T and %#v print the interpreter's own type names for types declared in cells (and for interface values, which may hold them): print a String method's result, or use a type switch"}},
		{"range over func", []string{`import "fmt"
func count(n int) func(func(int) bool) { return func(yield func(int) bool) { for i := 0; i < n; i++ { if !yield(i) { return } } } }
for x := range count(5) { if x == 3 { break }; fmt.Print(x) }`}, []string{"stdout:012"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := seq(t, c.cells...)
			for i := range c.want {
				if i < len(got) && got[i] != c.want[i] {
					t.Errorf("cell %d:\n got %q\nwant %q", i+1, got[i], c.want[i])
				}
			}
			if t.Failed() {
				t.Log(strings.Join(got, "\n---\n"))
			}
		})
	}
}

// BenchmarkTrivialCell is the kernel's share of a "1 + 1" round trip:
// check, plan, compile and run, show the result.
func BenchmarkTrivialCell(b *testing.B) {
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	r := &recorder{}
	for b.Loop() {
		if err := e.Execute(context.Background(), "1 + 1", r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoopCell is a cell that spends its time in interpreted code:
// the per-statement line marker is the front end's cost there.
func BenchmarkLoopCell(b *testing.B) {
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	r := &recorder{}
	for b.Loop() {
		if err := e.Execute(context.Background(), "s := 0\nfor i := 0; i < 100000; i++ { s += i }", r); err != nil {
			b.Fatal(err)
		}
	}
}
