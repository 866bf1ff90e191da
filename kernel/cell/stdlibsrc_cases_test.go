package cell

// The second half of TestStdlibsrc's cases (see stdlibsrcCases).
var stdlibsrcCasesB = []struct{ name, code, want string }{
	{"iter-seq-types", `import (
	"fmt"
	"iter"
	"slices"
)
func Count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}
func Pairs[K, V any](ks []K, vs []V) iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for i := range ks {
			if !yield(ks[i], vs[i]) {
				return
			}
		}
	}
}
var s iter.Seq[int] = Count(3)
fmt.Println(slices.Collect(s), slices.Collect(Count(0)) == nil)
for k, v := range Pairs([]string{"a", "b"}, []int{1, 2}) {
	fmt.Print(k, v, ";")
}
fmt.Println()
`, `[0 1 2] true
a1;b2;
`},
	{"cmp-defined", `import (
	"cmp"
	"fmt"
	"math"
)
type Temp float64
type Name string
fmt.Println(cmp.Compare(Temp(1), Temp(2)), cmp.Less(Name("b"), Name("a")), cmp.Compare(Temp(math.NaN()), Temp(0)))
fmt.Println(cmp.Or(Name(""), Name("x")), cmp.Or[int]())
`, `-1 false -1
x 0
`},
	{"slices-panics", `import (
	"fmt"
	"slices"
)
func try(f func()) {
	defer func() { fmt.Println("recovered:", recover()) }()
	f()
}
try(func() { fmt.Println(slices.Max([]int{})) })
try(func() { fmt.Println(slices.Min([]string{})) })
try(func() {
	for range slices.Chunk([]int{1}, 0) {
	}
})
try(func() { fmt.Println(slices.Repeat([]int{1}, -1)) })
try(func() { fmt.Println(slices.MinFunc([]string{}, func(a, b string) int { return 0 })) })
try(func() { fmt.Println(slices.MaxFunc([]string{}, func(a, b string) int { return 0 })) })
`, `recovered: slices.Max: empty list
recovered: slices.Min: empty list
recovered: cannot be less than 1
recovered: cannot be negative
recovered: slices.MinFunc: empty list
recovered: slices.MaxFunc: empty list
`},
	{"defined-types-more", `import (
	"fmt"
	"maps"
	"slices"
	"strings"
)
type Names []string
type Score float64
type Board map[string]Score
ns := Names{"pear", "Apple", "fig", "apple"}
slices.Sort(ns)
fmt.Println(ns, slices.IsSorted(ns))
slices.SortFunc(ns, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
fmt.Println(ns)
i, ok := slices.BinarySearch(Names{"a", "c", "e"}, "d")
fmt.Println(i, ok)
b := Board{"ann": 3.5, "bo": 1, "cy": 9}
fmt.Println(slices.Sorted(maps.Keys(b)), slices.Sorted(maps.Values(b)))
sc := slices.Collect(maps.Values(b))
slices.Sort(sc)
fmt.Println(sc, slices.Max(sc), slices.Min(sc), slices.Index(sc, 9))
b2 := maps.Collect(maps.All(b))
fmt.Println(maps.Equal(b, b2), len(b2))
maps.Insert(b2, maps.All(Board{"di": 0}))
fmt.Println(slices.Sorted(maps.Keys(b2)))
for c := range slices.Chunk(ns, 3) {
	fmt.Println(c, len(c))
}
var total Score
for _, v := range slices.Backward(sc) {
	total += v
}
fmt.Println(total)
`, `[Apple apple fig pear] true
[Apple apple fig pear]
2 false
[ann bo cy] [1 3.5 9]
[1 3.5 9] 9 1 2
true 3
[ann bo cy di]
[Apple apple fig] 3
[pear] 1
13.5
`},
	{"cell-generic-calls-slices", `import (
	"cmp"
	"fmt"
	"slices"
)
func Top[T cmp.Ordered](xs []T, n int) []T {
	s := slices.Clone(xs)
	slices.Sort(s)
	slices.Reverse(s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}
fmt.Println(Top([]int{4, 9, 1, 7}, 2), Top([]string{"b", "c", "a"}, 5))
`, `[9 7] [c b a]
`},
	{"cell-generic-collect", `import (
	"fmt"
	"iter"
	"slices"
)
func Map[T, U any](seq iter.Seq[T], f func(T) U) iter.Seq[U] {
	return func(yield func(U) bool) {
		seq(func(v T) bool { return yield(f(v)) })
	}
}
fmt.Println(slices.Collect(Map(slices.Values([]int{1, 2, 3}), func(i int) string { return fmt.Sprint(i * i) })))
`, `[1 4 9]
`},
	{"slices-bounds-panics", `import (
	"fmt"
	"runtime"
	"slices"
)
func try(f func()) {
	defer func() {
		r := recover()
		_, isRuntime := r.(runtime.Error)
		fmt.Println(isRuntime, r)
	}()
	f()
}
try(func() { slices.Delete([]int{1, 2, 3}, 2, 1) })
try(func() { slices.Insert([]int{1, 2, 3}, 5, 9) })
try(func() { slices.Delete([]int{1, 2, 3}, 1, 7) })
try(func() { slices.Replace([]int{1, 2, 3}, 2, 1) })
try(func() { slices.Replace(make([]int, 2, 5), 1, 9) })
try(func() { slices.Grow([]int{}, -1) })
`, `true runtime error: slice bounds out of range [2:1:]
true runtime error: slice bounds out of range [5:3]
true runtime error: slice bounds out of range [:7:3]
true runtime error: slice bounds out of range [2:1]
true runtime error: slice bounds out of range [:9] with capacity 5
false cannot be negative
`},
	{"strings-bytes-seqs", `import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"
)
fmt.Printf("%q\n", slices.Collect(strings.SplitSeq("a,b,,c", ",")))
fmt.Printf("%q\n", slices.Collect(strings.SplitAfterSeq("a,b,,c", ",")))
fmt.Printf("%q\n", slices.Collect(strings.FieldsSeq("  one two   three ")))
fmt.Printf("%q\n", slices.Collect(strings.FieldsFuncSeq("a1b22c", unicode.IsDigit)))
fmt.Printf("%q\n", slices.Collect(strings.Lines("x\ny\n\nz")))
for part := range strings.SplitSeq("k=v;k2=v2", ";") {
	if part == "k2=v2" {
		break
	}
	fmt.Println(part)
}
fmt.Printf("%q\n", slices.Collect(bytes.SplitSeq([]byte("a b"), []byte(" "))))
fmt.Printf("%q\n", slices.Collect(bytes.SplitAfterSeq([]byte("a b"), []byte(" "))))
fmt.Printf("%q\n", slices.Collect(bytes.FieldsSeq([]byte(" p  q "))))
fmt.Printf("%q\n", slices.Collect(bytes.FieldsFuncSeq([]byte("p,q"), func(r rune) bool { return r == ',' })))
n := 0
for l := range bytes.Lines([]byte("1\n2\n3")) {
	n += len(l)
}
fmt.Println(n)
`, `["a" "b" "" "c"]
["a," "b," "," "c"]
["one" "two" "three"]
["a" "b" "c"]
["x\n" "y\n" "\n" "z"]
k=v
["a" "b"]
["a " "b"]
["p" "q"]
["p" "q"]
5
`},
	{"newer-symbols", `import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/parser"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"unicode/utf16"
)
fmt.Println(len(rand.Text()), utf16.RuneLen('😀'), utf16.RuneLen('a'))
b, err := binary.Append(nil, binary.BigEndian, uint16(258))
fmt.Println(b, err)
var x int32 = 6
old := atomic.AndInt32(&x, 3)
fmt.Println(old, x)
p, err := filepath.Localize("a/b")
fmt.Println(p, err)
fmt.Println(slog.DiscardHandler != nil)
e, _ := parser.ParseExpr("a + b*c")
kinds := 0
for n := range ast.Preorder(e) {
	if _, ok := n.(*ast.Ident); ok {
		kinds++
	}
}
fmt.Println(kinds)
`, `26 2 1
[1 2] <nil>
6 2
a/b <nil>
true
3
`},
	{"sort-named-and-pull-loop", `import (
	"fmt"
	"iter"
	"maps"
	"slices"
)
type Names []string
type ID int
ns := Names{"d", "b", "a", "c"}
alias := ns[1:3]
slices.Sort(ns)
fmt.Println(ns, alias)
ids := []ID{3, 1, 2}
slices.Sort(ids)
fmt.Println(ids, slices.Sorted(slices.Values(ids)))
next, stop := iter.Pull2(slices.All(ns))
for {
	i, v, ok := next()
	if !ok {
		break
	}
	fmt.Print(i, v, " ")
}
stop()
fmt.Println()
m := map[ID]Names{2: {"x"}, 1: {"y", "z"}}
for _, k := range slices.Sorted(maps.Keys(m)) {
	fmt.Print(k, m[k], len(m[k]), " ")
}
fmt.Println()
type P struct{ A, B int }
ps := []P{{1, 2}, {1, 2}, {2, 1}, {2, 1}, {1, 2}}
fmt.Println(slices.Compact(ps), slices.CompactFunc(ps, func(a, b P) bool { return a.A == b.A }))
`, `[a b c d] [b c]
[1 2 3] [1 2 3]
0a 1b 2c 3d 
1 [y z] 2 2 [x] 1 
[{1 2} {2 1} {1 2}] [{1 2} {2 1} {1 2} {0 0}]
`},
	{"new-packages", `import (
	"crypto/mlkem"
	"crypto/sha3"
	"fmt"
)
fmt.Printf("%x %d\n", sha3.Sum256([]byte("abc")), mlkem.SharedKeySize)
h := sha3.New224()
h.Write([]byte("abc"))
fmt.Printf("%x\n", h.Sum(nil))
`, `3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532 32
e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf
`},
}
