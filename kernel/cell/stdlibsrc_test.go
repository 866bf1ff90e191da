package cell

// Tests of the parts of the standard library the kernel bundles (package
// stdlibsrc, and generic.go): package iter, Go 1.26's slices and maps from
// source, and the compiled symbols newer than yaegi's tables. The cases
// run cells through an engine; their expected outputs are what Go prints
// for the same code (the differential harness compared them, and they were
// checked by hand), so the kernel matches Go exactly, unstable sorts and
// -0 included.

import (
	"context"
	"go/types"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/ppfkit/ppf/kernel/cell/stdlibsrc"
)

// stdoutOf runs code in e and returns what it printed, failing on any
// other output.
func stdoutOf(t *testing.T, e *Engine, code string) string {
	t.Helper()
	r := &recorder{input: "Ada"}
	if err := e.Execute(context.Background(), code, r); err != nil {
		t.Fatalf("%s: %s", err.Name, err.Value)
	}
	var b strings.Builder
	for _, ev := range r.events {
		s, ok := strings.CutPrefix(ev, "stdout:")
		if !ok {
			t.Fatalf("unexpected output %q", ev)
		}
		b.WriteString(s)
	}
	return b.String()
}

// stdlibsrcCases are the cases of TestStdlibsrc, in two files for length.
var stdlibsrcCases = append(stdlibsrcCasesA, stdlibsrcCasesB...)

var stdlibsrcCasesA = []struct{ name, code, want string }{
	{"slices-basic-defined", `import (
	"fmt"
	"slices"
	"strings"
)
type P struct {
	N string
	A int
}
type Names []string
type ID int
ps := []P{{"a", 3}, {"b", 1}, {"c", 3}, {"d", 2}}
ns := Names{"x", "y", "x", "z"}
ids := []ID{5, 3, 9, 3}
fmt.Println(slices.Equal(ns, Names{"x", "y", "x", "z"}), slices.Equal(ids, nil), slices.Equal([]int{}, nil))
fmt.Println(slices.EqualFunc(ps, ns, func(p P, s string) bool { return len(s) == 1 }))
fmt.Println(slices.Compare(ns, Names{"x", "y"}), slices.Compare(ids, []ID{5, 4}), slices.Compare([]string{}, nil))
fmt.Println(slices.CompareFunc(ps, ids, func(p P, i ID) int { return p.A - int(i) }))
fmt.Println(slices.Index(ns, "x"), slices.Index(ids, 3), slices.Index(ps, P{"c", 3}), slices.Index(ids, 7))
fmt.Println(slices.IndexFunc(ps, func(p P) bool { return p.A == 2 }), slices.Contains(ns, "z"), slices.Contains(ids, 4))
fmt.Println(slices.ContainsFunc(ns, func(s string) bool { return strings.HasPrefix(s, "y") }))
c := slices.Clone(ps)
c[0].N = "changed"
fmt.Println(ps[0].N, c[0].N, slices.Clone([]int(nil)) == nil, slices.Clone([]int{}) == nil, len(slices.Clone(Names{})))
slices.Reverse(ns)
fmt.Println(ns)
fmt.Println(slices.Clip(ns[:2]))
fmt.Println(cap(slices.Clip(ns[:2])))
`, `true false true
true
1 -1 0
-2
0 1 2 -1
3 true false
true
a changed true false 0
[z x y x]
[z x]
2
`},
	{"slices-insert-delete", `import (
	"fmt"
	"slices"
)
type ID int
s := make([]ID, 4, 10)
for i := range s {
	s[i] = ID(i + 1)
}
s2 := slices.Insert(s, 1, 10, 11)
fmt.Println(s2, len(s2), cap(s2), s)
s3 := slices.Insert(s2, len(s2), 99)
fmt.Println(s3)
s4 := slices.Insert([]int{1, 2, 3}, 1, 7, 8, 9)
fmt.Println(s4, len(s4), cap(s4))
fmt.Println(slices.Insert([]string{"a"}, 0))
big := make([]int, 5, 8)
for i := range big {
	big[i] = i
}
ov := slices.Insert(big, 1, big[3:5]...)
fmt.Println(ov)
d := []string{"a", "b", "c", "d", "e"}
d2 := slices.Delete(d, 1, 3)
fmt.Println(d2, len(d2), d, len(d))
fmt.Println(slices.Delete(d2, 0, 0))
e := []int{1, 2, 3, 4, 5, 6}
e2 := slices.DeleteFunc(e, func(x int) bool { return x%2 == 0 })
fmt.Println(e2, e)
`, `[1 10 11 2 3 4] 6 10 [1 10 11 2]
[1 10 11 2 3 4 99]
[1 7 8 9 2 3] 6 6
[a]
[0 3 4 1 2 3 4]
[a d e] 3 [a d e  ] 5
[a d e]
[1 3 5] [1 3 5 0 0 0]
`},
	{"slices-replace", `import (
	"fmt"
	"slices"
)
a := []int{0, 1, 2, 3, 4, 5}
fmt.Println(slices.Replace(slices.Clone(a), 1, 3, 7))
fmt.Println(slices.Replace(slices.Clone(a), 1, 2, 7, 8, 9))
fmt.Println(slices.Replace(slices.Clone(a), 2, 2, 7))
b := slices.Clone(a)
b2 := slices.Replace(b, 4, 6, 9)
fmt.Println(b2, b)
c := make([]int, 6, 12)
copy(c, a)
c2 := slices.Replace(c, 1, 2, c[3:6]...)
fmt.Println(c2)
d := make([]int, 6, 12)
copy(d, a)
d2 := slices.Replace(d, 1, 5, 8)
fmt.Println(d2, d[:6])
`, `[0 7 3 4 5]
[0 7 8 9 2 3 4 5]
[0 1 7 2 3 4 5]
[0 1 2 3 9] [0 1 2 3 9 0]
[0 3 4 5 2 3 4 5]
[0 8 5] [0 8 5 0 0 0]
`},
	{"slices-compact-grow-concat", `import (
	"fmt"
	"slices"
	"strings"
)
type Names []string
s := []int{1, 1, 2, 3, 3, 3, 4}
s = slices.Compact(s)
fmt.Println(s, len(s))
orig := Names{"a", "A", "b", "B", "b", "c"}
cf := slices.CompactFunc(orig, strings.EqualFold)
fmt.Printf("%v %q\n", cf, orig)
fmt.Println(slices.Compact([]int(nil)) == nil, slices.Compact([]int{7}))
g := slices.Grow([]int{1, 2}, 10)
fmt.Println(g, len(g), cap(g) >= 12)
cc := slices.Concat(Names{"x"}, nil, Names{"y", "z"})
fmt.Printf("%v %d\n", cc, len(cc))
fmt.Println(slices.Concat[[]int]() == nil, slices.Concat([]int{}, []int{}) == nil)
fmt.Println(slices.Repeat(Names{"ab", "c"}, 2), len(slices.Repeat([]int{}, 5)), slices.Repeat([]int{1}, 0) == nil)
`, `[1 2 3 4] 4
[a b c] ["a" "b" "c" "" "" ""]
true [7]
[1 2] 2 true
[x y z] 3
true true
[ab c ab c] 0 false
`},
	{"slices-sort-ordered", `import (
	"fmt"
	"math"
	"slices"
)
type Temp float64
xs := []int{5, 2, 8, 1, 9, 3}
slices.Sort(xs)
fmt.Println(xs, slices.IsSorted(xs))
fs := []float64{3, math.NaN(), -1, math.Inf(1), 0, math.Copysign(0, -1), 2, math.NaN()}
slices.Sort(fs)
fmt.Println(fs, slices.IsSorted(fs))
ts := []Temp{20.5, -3, 7}
slices.Sort(ts)
fmt.Println(ts, slices.Min(ts), slices.Max(ts))
fmt.Println(slices.Min([]float64{1, math.NaN(), 0}), slices.Max([]float64{1, math.NaN()}))
fmt.Println(slices.Min([]float64{0, math.Copysign(0, -1)}), slices.Max([]float64{math.Copysign(0, -1), 0}))
fmt.Println(slices.Min([]float64{math.Copysign(0, -1), 0}), slices.Max([]float64{0, math.Copysign(0, -1)}))
ss := []string{"pear", "apple", "fig"}
slices.Sort(ss)
fmt.Println(ss, slices.Min(ss), slices.Max(ss), slices.IsSorted([]string{"b", "a"}))
i, ok := slices.BinarySearch(ss, "fig")
j, ok2 := slices.BinarySearch(ss, "grape")
k, ok3 := slices.BinarySearch(fs, math.NaN())
fmt.Println(i, ok, j, ok2, k, ok3)
`, `[1 2 3 5 8 9] true
[NaN NaN -1 0 -0 2 3 +Inf] true
[-3 7 20.5] -3 20.5
NaN NaN
-0 0
-0 0
[apple fig pear] apple pear false
1 true 2 false 0 true
`},
	{"slices-sort-large", `import (
	"cmp"
	"fmt"
	"slices"
)
type P struct {
	K int
	V int
}
seed := uint32(12345)
rnd := func() int {
	seed = seed*1664525 + 1013904223
	return int(seed >> 8)
}
var xs []int
var ps []P
for i := 0; i < 300; i++ {
	xs = append(xs, rnd()%50)
	ps = append(ps, P{rnd() % 20, i})
}
slices.Sort(xs)
fmt.Println(xs[:20], xs[280:], slices.IsSorted(xs))
calls := 0
slices.SortFunc(ps, func(a, b P) int {
	calls++
	return cmp.Compare(a.K, b.K)
})
fmt.Println(ps[:12], calls)
slices.SortStableFunc(ps, func(a, b P) int { return cmp.Compare(b.K%3, a.K%3) })
fmt.Println(ps[:12], ps[290:])
desc := make([]int, 200)
for i := range desc {
	desc[i] = 200 - i
}
slices.Sort(desc)
fmt.Println(desc[:5], desc[195:])
same := make([]P, 100)
for i := range same {
	same[i] = P{1, i}
}
slices.SortFunc(same, func(a, b P) int { return cmp.Compare(a.K, b.K) })
fmt.Println(same[:10])
asc := make([]P, 120)
for i := range asc {
	asc[i] = P{i / 3, i}
}
asc[50], asc[60] = asc[60], asc[50]
slices.SortFunc(asc, func(a, b P) int { return cmp.Compare(a.K, b.K) })
fmt.Println(asc[45:65])
`, `[0 0 0 0 0 1 1 1 2 2 2 2 2 2 2 2 2 2 2 3] [46 46 46 46 47 47 47 47 47 47 47 48 48 49 49 49 49 49 49 49] true
[{0 136} {0 83} {0 195} {0 78} {0 76} {0 63} {0 185} {0 101} {0 46} {0 154} {0 113} {0 244}] 1808
[{2 173} {2 260} {2 167} {2 1} {2 219} {2 50} {2 254} {2 109} {2 146} {2 115} {2 114} {2 69}] [{18 93} {18 231} {18 163} {18 143} {18 228} {18 275} {18 107} {18 55} {18 255} {18 262}]
[1 2 3 4 5] [196 197 198 199 200]
[{1 0} {1 1} {1 2} {1 3} {1 4} {1 5} {1 6} {1 7} {1 8} {1 9}]
[{15 45} {15 46} {15 47} {16 48} {16 49} {16 50} {17 51} {17 52} {17 53} {18 54} {18 55} {18 56} {19 59} {19 58} {19 57} {20 60} {20 61} {20 62} {21 63} {21 64}]
`},
	{"slices-func-variants", `import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)
type P struct {
	N string
	A int
}
ps := []P{{"a", 3}, {"b", 1}, {"c", 3}, {"d", 1}}
byA := func(x, y P) int { return cmp.Compare(x.A, y.A) }
fmt.Println(slices.MinFunc(ps, byA), slices.MaxFunc(ps, byA), slices.IsSortedFunc(ps, byA))
slices.SortStableFunc(ps, byA)
fmt.Println(ps, slices.IsSortedFunc(ps, byA))
i, ok := slices.BinarySearchFunc(ps, 3, func(p P, t int) int { return cmp.Compare(p.A, t) })
j, ok2 := slices.BinarySearchFunc(ps, 2, func(p P, t int) int { return cmp.Compare(p.A, t) })
fmt.Println(i, ok, j, ok2)
words := []string{"Banana", "apple", "Cherry"}
slices.SortFunc(words, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
fmt.Println(words)
`, `{b 1} {a 3} false
[{b 1} {d 1} {a 3} {c 3}] true
2 true 2 false
[apple Banana Cherry]
`},
	{"slices-iter", `import (
	"fmt"
	"maps"
	"slices"
)
type Names []string
ns := Names{"p", "q", "r"}
for i, v := range slices.All(ns) {
	fmt.Print(i, v, " ")
}
fmt.Println()
for i, v := range slices.Backward(ns) {
	if i == 0 {
		break
	}
	fmt.Print(i, v, " ")
}
fmt.Println()
for v := range slices.Values(ns) {
	fmt.Print(v)
}
fmt.Println()
col := slices.Collect(slices.Values(ns))
fmt.Printf("%v\n", col)
app := slices.AppendSeq(Names{"o"}, slices.Values(ns))
fmt.Printf("%v\n", app)
fmt.Println(slices.Collect(slices.Values([]int(nil))) == nil, slices.AppendSeq([]int(nil), slices.Values([]int{})) == nil)
m := map[string]int{"z": 26, "a": 1, "m": 13}
fmt.Println(slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Values(m)))
fmt.Println(slices.SortedFunc(maps.Keys(m), func(a, b string) int { return m[b] - m[a] }))
fmt.Println(slices.SortedStableFunc(slices.Values([]string{"bb", "a", "cc", "d"}), func(a, b string) int { return len(a) - len(b) }))
for c := range slices.Chunk(Names{"a", "b", "c", "d", "e"}, 2) {
	fmt.Printf("%v %d %d; ", c, len(c), cap(c))
}
fmt.Println()
n := 0
for range slices.Chunk([]int{}, 3) {
	n++
}
fmt.Println(n)
`, `0p 1q 2r 
2r 1q 
pqr
[p q r]
[o p q r]
true true
[a m z] [1 13 26]
[z m a]
[a d bb cc]
[a b] 2 2; [c d] 2 2; [e] 1 1; 
0
`},
	{"maps-all", `import (
	"fmt"
	"maps"
	"slices"
	"strings"
)
type Stock map[string]int
st := Stock{"pear": 3, "apple": 7, "fig": 0}
cp := maps.Clone(st)
cp["kiwi"] = 1
fmt.Printf("%d %d %v\n", len(st), len(cp), maps.Equal(st, cp))
fmt.Println(maps.Clone(Stock(nil)) == nil, maps.Equal(st, map[string]int{"pear": 3, "apple": 7, "fig": 0}))
fmt.Println(maps.EqualFunc(st, map[string]string{"pear": "3", "apple": "7", "fig": "0"}, func(a int, b string) bool { return fmt.Sprint(a) == b }))
dst := map[string]int{"pear": 100, "x": 1}
maps.Copy(dst, st)
fmt.Println(slices.Sorted(maps.Keys(dst)), dst["pear"])
maps.DeleteFunc(dst, func(k string, v int) bool { return strings.HasPrefix(k, "p") || v == 0 })
fmt.Println(slices.Sorted(maps.Keys(dst)))
keys := []string{}
for k, v := range maps.All(st) {
	keys = append(keys, fmt.Sprint(k, "=", v))
}
slices.Sort(keys)
fmt.Println(keys)
ins := map[int]string{}
maps.Insert(ins, slices.All([]string{"zero", "one"}))
fmt.Println(ins)
col := maps.Collect(slices.All([]string{"a", "b"}))
fmt.Printf("%v\n", col)
inv := maps.Collect(func(yield func(int, string) bool) {
	for k, v := range st {
		if !yield(v, k) {
			return
		}
	}
})
fmt.Println(inv[7], len(inv))
`, `3 4 false
true true
true
[apple fig pear x] 3
[apple x]
[apple=7 fig=0 pear=3]
map[0:zero 1:one]
map[0:a 1:b]
apple 3
`},
	{"iter-pull", `import (
	"fmt"
	"iter"
	"maps"
	"slices"
)
next, stop := iter.Pull(slices.Values([]int{4, 5, 6}))
a, ok1 := next()
b, ok2 := next()
stop()
c, ok3 := next()
stop()
fmt.Println(a, ok1, b, ok2, c, ok3)
n2, s2 := iter.Pull(slices.Values([]string{"x"}))
v1, o1 := n2()
v2, o2 := n2()
v3, o3 := n2()
s2()
fmt.Printf("%q %v %q %v %q %v\n", v1, o1, v2, o2, v3, o3)
called := false
var never iter.Seq[int] = func(yield func(int) bool) { called = true }
n3, s3 := iter.Pull(never)
s3()
v, ok := n3()
fmt.Println(called, v, ok)
cleanup := ""
var naturals iter.Seq[int] = func(yield func(int) bool) {
	defer func() { cleanup = "done" }()
	for i := 0; ; i++ {
		if !yield(i) {
			return
		}
	}
}
n4, s4 := iter.Pull(naturals)
n4()
n4()
s4()
fmt.Println(cleanup)
k1, kv1 := iter.Pull2(maps.All(map[string]int{"only": 1}))
x, y, ok5 := k1()
_, _, ok6 := k1()
kv1()
fmt.Println(x, y, ok5, ok6)
var boom iter.Seq[int] = func(yield func(int) bool) {
	yield(1)
	panic("boom")
}
n6, s6 := iter.Pull(boom)
fmt.Println(n6())
func() {
	defer func() { fmt.Println("recovered:", recover()) }()
	fmt.Println(n6())
}()
fmt.Println(n6())
s6()
var boom2 iter.Seq2[int, int] = func(yield func(int, int) bool) {
	yield(1, 2)
	panic("boom2")
}
n7, s7 := iter.Pull2(boom2)
fmt.Println(n7())
func() {
	defer func() { fmt.Println("recovered:", recover()) }()
	s7()
}()
fmt.Println(n7())
`, `4 true 5 true 0 false
"x" true "" false "" false
false 0 false
done
only 1 true false
1 true
recovered: boom
0 false
1 2 true
recovered: boom2
0 0 false
`},
}

func TestStdlibsrc(t *testing.T) {
	for _, c := range stdlibsrcCases {
		t.Run(c.name, func(t *testing.T) {
			if got := stdoutOf(t, newEngine(t), c.code); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestStdlibsrcPackages checks that the type checker has all of Go
// 1.26's iter, slices and maps, from stdlibsrc's files alone (yaegi's
// copies, which it replaces whole, are left out).
func TestStdlibsrcPackages(t *testing.T) {
	e := newEngine(t)
	want := map[string][]string{
		"iter": {"Pull", "Pull2", "Seq", "Seq2"},
		"maps": {"All", "Clone", "Collect", "Copy", "DeleteFunc", "Equal", "EqualFunc", "Insert", "Keys", "Values"},
		"slices": {"All", "AppendSeq", "Backward", "BinarySearch", "BinarySearchFunc", "Chunk", "Clip", "Clone",
			"Collect", "Compact", "CompactFunc", "Compare", "CompareFunc", "Concat", "Contains", "ContainsFunc",
			"Delete", "DeleteFunc", "Equal", "EqualFunc", "Grow", "Index", "IndexFunc", "Insert", "IsSorted",
			"IsSortedFunc", "Max", "MaxFunc", "Min", "MinFunc", "Repeat", "Replace", "Reverse", "Sort",
			"SortFunc", "SortStableFunc", "Sorted", "SortedFunc", "SortedStableFunc", "Values"},
		"cmp": {"Compare", "Less", "Or", "Ordered"},
	}
	for path, names := range want {
		pkg, err := e.importer.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		var exported []string
		for _, n := range pkg.Scope().Names() {
			if pkg.Scope().Lookup(n).Exported() {
				exported = append(exported, n)
			}
		}
		if !slices.Equal(exported, names) {
			t.Errorf("package %s has %v, want %v", path, exported, names)
		}
	}
	for _, path := range []string{"maps", "slices"} {
		for _, src := range genericSources()[path] {
			if slices.Contains(generic.Sources[:], src) {
				t.Errorf("the type checker has yaegi's copy of %s, which stdlibsrc replaces", path)
			}
		}
	}
}

// TestStdlibsrcSymbols checks that the type checker has every compiled
// symbol that stdlibsrc adds, and gives the functions that return an
// iterator a type that ranges.
func TestStdlibsrcSymbols(t *testing.T) {
	e := newEngine(t)
	for key, syms := range stdlibsrc.Symbols() {
		path := key[:strings.LastIndexByte(key, '/')]
		pkg, err := e.importer.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		for name := range syms {
			if pkg.Scope().Lookup(name) == nil {
				t.Errorf("%s.%s: not in the type checker's package", path, name)
			}
		}
	}
	pkg, err := e.importer.Import("strings")
	if err != nil {
		t.Fatal(err)
	}
	sig := pkg.Scope().Lookup("SplitSeq").Type().(*types.Signature)
	if got := sig.Results().At(0).Type().String(); got != "func(func(string) bool)" {
		t.Errorf("strings.SplitSeq returns %s", got)
	}
}
