package gotypes

import (
	"go/constant"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// TestCheckCorrect type-checks cells that must compile: each exercises one
// form the importer has to get right.
func TestCheckCorrect(t *testing.T) {
	im := newKernelImporter(t)
	goroot := sourceImporter(t)
	for _, tc := range []struct{ name, src string }{
		{"fmt strings Builder", `package p
import ("fmt"; "strings")
func f() string {
	var b strings.Builder // pointer-receiver methods on an addressable value
	b.WriteString("x")
	b.WriteByte('y')
	fmt.Fprintf(&b, "%d", 3)
	s := strings.ToUpper(b.String())
	fmt.Println(s, len(strings.Fields(s)), strings.Contains(s, "X"))
	var st fmt.Stringer = &b
	_ = st
	return strings.Repeat(s, 2) + strings.NewReplacer("a", "b").Replace(s)
}`},
		{"os.Args math constants", `package p
import ("math"; "os")
var n = len(os.Args)
var a int64 = math.MaxInt64
var f float64 = math.MaxInt64
var g = math.Pi * 2
const big = math.MaxUint64
var u uint64 = big
var x = math.Sqrt(2) + math.Inf(1)
func h() { os.Args = append(os.Args, "x"); os.Exit(n) }`},
		{"time typed constants", `package p
import "time"
const c = time.Second * 3
var d = c
var _ time.Duration = d
var ms int64 = d.Milliseconds()
var arr [c / time.Second]int
func f() float64 {
	var t time.Time = time.Now().Add(d)
	time.Sleep(10 * time.Millisecond)
	return t.Sub(time.Now()).Seconds() + float64(len(arr))
}`},
		{"errors", `package p
import ("errors"; "fmt"; "io"; "io/fs"; "os")
var errX = errors.New("x")
func f() bool {
	err := fmt.Errorf("wrap: %w", errX)
	var pe *fs.PathError
	_, err2 := os.Open("nope")
	return errors.Is(err, errX) || errors.Is(err, io.EOF) || errors.As(err2, &pe) || errors.Is(err2, os.ErrNotExist)
}`},
		{"sort", `package p
import "sort"
func f() []int {
	s := []int{3, 1, 2}
	sort.Ints(s)
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	sort.Sort(sort.Reverse(sort.IntSlice(s)))
	return s
}`},
		{"bytes.Buffer as io.Writer", `package p
import ("bytes"; "fmt"; "io")
func f() []byte {
	var b bytes.Buffer
	var w io.Writer = &b
	fmt.Fprint(w, 1)
	var rw io.ReadWriter = &b
	io.WriteString(rw, "x")
	b.Write([]byte("y"))
	var bs []byte = b.Bytes()
	return append(bs, bytes.ToUpper([]byte("z"))...)
}`},
		{"bufio", `package p
import ("bufio"; "os")
func f() (int, error) {
	sc := bufio.NewScanner(os.Stdin)
	n := 0
	for sc.Scan() {
		n += len(sc.Text())
	}
	r := bufio.NewReader(os.Stdin)
	line, err := r.ReadString('\n')
	return n + len(line), err
}`},
		{"sync", `package p
import "sync"
func f() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var l sync.Locker = &mu
	n := 0
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); l.Lock(); n += i; l.Unlock() }()
	}
	wg.Wait()
	var once sync.Once
	once.Do(func() {})
}`},
		{"context", `package p
import ("context"; "time")
func f() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx2, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	select {
	case <-ctx2.Done():
	case <-time.After(time.Millisecond):
	}
	return ctx.Err()
}`},
		{"embedding and promoted methods", `package p
import ("bufio"; "bytes"; "io"; "net/http"; "os")
type myBuf struct {
	bytes.Buffer
	n int
}
func (m *myBuf) Count() int { m.n++; return m.n }
func f() string {
	var m myBuf
	m.WriteString("x") // promoted through an embedded value
	var w io.Writer = &m
	_ = w
	rw := bufio.NewReadWriter(bufio.NewReader(os.Stdin), bufio.NewWriter(os.Stdout))
	rw.WriteString("x") // promoted through embedded pointers
	rw.Flush()
	s, _ := rw.ReadString('\n')
	h := http.Header{}
	h.Set("A", "b")
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.Header.Add("C", "d")
	var f *os.File = os.Stdout // embeds *os.file
	f.WriteString(f.Name())
	return s + h.Get("A") + req.URL.Host + m.String()
}`},
		{"generic sources", `package p
import ("cmp"; "maps"; "slices")
func f() (int, bool) {
	s := []string{"a", "b"}
	i := slices.Index(s, "b")
	ok := slices.Contains([]int{1, 2}, 2)
	m := map[string]int{"a": 1}
	c := maps.Clone(m)
	maps.DeleteFunc(c, func(k string, v int) bool { return v > 1 })
	return i + cmp.Compare(1, 2) + len(slices.Insert(s, 0, "z")), ok && maps.Equal(m, c)
}`},
		{"ppfnb", `package p
import ("context"; "fmt"; "github.com/ppfkit/ppf/ppfnb"; "github.com/ppfkit/ppf/ppfnb/display")
func f() error {
	o := ppfnb.DefaultExperiment(ppfnb.ModelID("stories260K"), true)
	o.SeqLen = ppfnb.DefaultSeqLen
	o.Ratios = []float64{ppfnb.DefaultRatioMin, 0.5}
	o.Log = func(msg string) { fmt.Println(msg) }
	var res *ppfnb.ExperimentResult
	res, err := ppfnb.RunExperiment(context.Background(), o)
	if err != nil {
		return fmt.Errorf("%w: %v", ppfnb.ErrDiverged, err)
	}
	_ = res
	lm, err := ppfnb.Load("stories260K", "")
	if err != nil {
		return err
	}
	defer lm.Close()
	fig := ppfnb.PlotParity("t", nil, nil, nil)
	var png []byte = fig.PNG()
	display.Markdown(fmt.Sprint(len(png), lm.Backend(), ppfnb.DPI*2))
	return nil
}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustCheck(t, im, tc.src)
			if goroot != nil && !strings.Contains(tc.src, "ppfkit") {
				mustCheck(t, goroot, tc.src) // the snippet is right Go
			}
		})
	}
}

// TestCheckErrors type-checks wrong cells and wants go/types' own words,
// which the kernel shows to the user: the same as with the real packages
// (imported from GOROOT's sources, unless -short).
func TestCheckErrors(t *testing.T) {
	im := newKernelImporter(t)
	goroot := sourceImporter(t)
	// Messages of the importer's own, or where it differs from source on
	// purpose.
	ours := map[string]bool{"unexported name": true, "not bundled": true, "internal package": true, "not enough arguments": true, "yaegi's restricted log.Logger": true}
	for _, tc := range []struct{ name, src, want string }{
		{"int for string", `package p
import "strings"
var s = strings.ToUpper(1)`,
			"cannot use 1 (untyped int constant) as string value in argument to strings.ToUpper"},
		{"pointer method on non-addressable value", `package p
import "strings"
var n, _ = strings.Builder{}.WriteString("x")`,
			"cannot call pointer method WriteString on strings.Builder"},
		{"undefined selector", `package p
import "fmt"
func f() { fmt.Printlnx("x") }`,
			"undefined: fmt.Printlnx"},
		{"unexported name", `package p
import "fmt"
var p = fmt.newPrinter`,
			// As with export data, which has no unexported functions;
			// the source importer sees them.
			"undefined: fmt.newPrinter"},
		{"pointer receiver and interfaces", `package p
import ("bytes"; "io")
var b bytes.Buffer
var w io.Writer = b`,
			"cannot use b (variable of struct type bytes.Buffer) as io.Writer value in variable declaration: bytes.Buffer does not implement io.Writer (method Write has pointer receiver)"},
		{"typed constant", `package p
import "time"
var x int = time.Second`,
			"cannot use time.Second (constant 1000000000 of int64 type time.Duration) as int value in variable declaration"},
		{"constant overflow", `package p
import "math"
var x int32 = math.MaxInt64`,
			"cannot use math.MaxInt64 (untyped int constant 9223372036854775807) as int32 value in variable declaration (overflows)"},
		{"ambiguous promoted method", `package p
import ("bufio"; "os")
var rw = bufio.NewReadWriter(bufio.NewReader(os.Stdin), bufio.NewWriter(os.Stdout))
var n = rw.Size()`,
			"ambiguous selector rw.Size"},
		{"generic mismatch", `package p
import "slices"
var i = slices.Index([]string{"a"}, 1)`,
			"cannot use 1 (untyped int constant) as string value in argument to slices.Index"},
		{"byte slices", `package p
import "bytes"
var s string = bytes.ToUpper(nil)`,
			"cannot use bytes.ToUpper(nil) (value of type []byte) as string value in variable declaration"},
		{"not enough arguments", `package p
import "strings"
var s = strings.ToUpper()`,
			// reflect keeps no parameter names: the source says (s string).
			"not enough arguments in call to strings.ToUpper\n\thave ()\n\twant (string)"},
		{"yaegi's restricted log.Logger", `package p
import ("log"; "os")
var l *log.Logger = log.New(os.Stderr, "", 0)
func f() { l.SetPrefix("x") }`,
			// yaegi's stdlib.Symbols binds log.Logger and log.New to a
			// wrapper whose Fatal methods panic, and which lacks some
			// methods; the checker sees what runs.
			"l.SetPrefix undefined (type *log.Logger has no field or method SetPrefix)"},
		{"not enough results", `package p
import "os"
func f() { f := os.Open("x"); _ = f }`,
			"assignment mismatch: 1 variable but os.Open returns 2 values"},
		{"unused import", `package p
import "os"`,
			`"os" imported and not used`},
		{"not bundled", `package p
import "github.com/nobody/nothing"
var _ = nothing.X`,
			`could not import github.com/nobody/nothing (package github.com/nobody/nothing is not bundled with this kernel (see docs/kernel.md, "Packages"))`},
		{"internal package", `package p
import "internal/poll"
var _ poll.FD`,
			`could not import internal/poll (package internal/poll is not bundled with this kernel (see docs/kernel.md, "Packages"))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs, _, _ := check(t, im, tc.src)
			if len(errs) == 0 || errs[0] != tc.want {
				t.Errorf("errors:\n%s\nwant first:\n%s", strings.Join(errs, "\n"), tc.want)
			}
			if goroot != nil && !ours[tc.name] {
				real, _, _ := check(t, goroot, tc.src)
				if strings.Join(real, "\n") != strings.Join(errs, "\n") {
					t.Errorf("errors:\n%s\nfrom GOROOT sources:\n%s", strings.Join(errs, "\n"), strings.Join(real, "\n"))
				}
			}
		})
	}
}

func TestNotBundled(t *testing.T) {
	im := newKernelImporter(t)
	const want = `package example.com/x is not bundled with this kernel (see docs/kernel.md, "Packages")`
	for i := 0; i < 2; i++ { // the second time from a warm importer
		if _, err := im.Import("example.com/x"); err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
	}
	// Packages met only as types' homes are not importable either.
	if _, err := im.Import("os"); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import("internal/poll"); err == nil {
		t.Fatal("internal/poll imported")
	}
	if p, err := im.Import("unsafe"); p != types.Unsafe || err != nil {
		t.Fatalf("unsafe: %v, %v", p, err)
	}
}

// TestConstants checks the values and types constants come out with.
func TestConstants(t *testing.T) {
	im := newKernelImporter(t)
	for _, tc := range []struct{ path, name, typ, val string }{
		{"time", "Second", "time.Duration", "1000000000"},
		{"time", "RFC3339", "untyped string", `"2006-01-02T15:04:05Z07:00"`},
		{"math", "MaxInt64", "untyped int", "9223372036854775807"},
		{"math", "MaxUint64", "untyped int", "18446744073709551615"},
		{"math", "Pi", "untyped float", "3.14159"},
		{"os", "ModeDir", "io/fs.FileMode", "2147483648"},
		{"os", "O_RDONLY", "int", "0"},
		{"io", "SeekEnd", "untyped int", "2"},
		{"unicode/utf8", "RuneError", "untyped int", "65533"}, // a rune constant: the extractor writes an integer
		{"github.com/ppfkit/ppf/ppfnb", "DPI", "untyped int", "96"},
	} {
		p, err := im.Import(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := p.Scope().Lookup(tc.name).(*types.Const)
		if !ok {
			t.Errorf("%s.%s: %T, want a constant", tc.path, tc.name, p.Scope().Lookup(tc.name))
			continue
		}
		if got := c.Type().String(); got != tc.typ {
			t.Errorf("%s.%s: type %s, want %s", tc.path, tc.name, got, tc.typ)
		}
		if got := c.Val().String(); got != tc.val {
			t.Errorf("%s.%s = %s, want %s", tc.path, tc.name, got, tc.val)
		}
	}

	// Typed constant arithmetic keeps the named type, in a constant.
	info, _ := mustCheck(t, im, `package p
import "time"
const c = time.Second * 3`)
	for id, obj := range info.Defs {
		if id.Name == "c" {
			c := obj.(*types.Const)
			if c.Type().String() != "time.Duration" || !constant.Compare(c.Val(), token.EQL, constant.MakeInt64(3e9)) {
				t.Errorf("c: %s = %s", c.Type(), c.Val())
			}
		}
	}
}
