package cell

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb/display"
)

// recorder is a Publisher that keeps everything, as text.
type recorder struct {
	mu     sync.Mutex
	events []string
	input  string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) Stream(name, text string) { r.add(name + ":" + text) }
func (r *recorder) Display(d display.Data, update bool) {
	kind := "display"
	if update {
		kind = "update"
	}
	r.add(fmt.Sprintf("%s:%s", kind, mimeText(d)))
}
func (r *recorder) Result(d display.Data) { r.add("result:" + mimeText(d)) }
func (r *recorder) Clear(wait bool)       { r.add(fmt.Sprint("clear:", wait)) }
func (r *recorder) Page(text string)      { r.add("page:" + text) }
func (r *recorder) Error(e *Error)        { r.add("error:" + e.Name + ":" + e.Value) }
func (r *recorder) Input(prompt string, password bool) (string, error) {
	r.add("input:" + prompt)
	return r.input, nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "|")
}

func mimeText(d display.Data) string {
	var keys []string
	for _, k := range []string{display.MIMEHTML, display.MIMEMarkdown, display.MIMESVG, display.MIMEPNG} {
		if s, ok := d.MIME[k].(string); ok {
			keys = append(keys, k+"="+s)
		}
	}
	return fmt.Sprintf("%v%v", d.MIME[display.MIMEText], keys)
}

func newEngine(t *testing.T) *Engine {
	t.Helper()
	t.Setenv("PPF_TEST_ENV", "set")
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func run(t *testing.T, e *Engine, code string) (string, *Error) {
	t.Helper()
	r := &recorder{input: "Ada"}
	err := e.Execute(context.Background(), code, r)
	return r.String(), err
}

func TestCells(t *testing.T) {
	e := newEngine(t)
	cases := []cellCase{
		{`x := 40`, ``},
		{`x + 2`, `result:42[]`},
		{`import "fmt"
func add(a, b int) int { return a + b }
fmt.Println("sum", add(x, 1))`, `stdout:sum 41
`},
		{`fmt.Println("no result shown for multi-value calls")`, "stdout:no result shown for multi-value calls\n"},
		{`func Max[T int | float64](a, b T) T { if a > b { return a }; return b }
Max(2.5, 1.0)`, `result:2.5[]`},
		{`type T struct{ N int }
func (t T) HTML() string { return fmt.Sprint("<b>", t.N, "</b>") }
T{7}`, `result:struct{N: 7}[text/html=<b>7</b>]`},
		{`import "github.com/ppfkit/ppf/ppfnb/display"
display.Markdown("# hi")`, `display:# hi[text/markdown=# hi]`},
		{`name, _ := display.Input("who? ")
name`, `input:who? |result:Ada[]`},
		{`var s string
fmt.Scanln(&s)
s`, `input:|result:Ada[]`},
		{`display.Clear(true)`, `clear:true`},
		{`?strings.ToUpper`, "page:strings.ToUpper func(string) string\n\nfunc ToUpper(s string) string\n\nToUpper returns s with all Unicode letters mapped to their upper case."},
		{`import ("fmt"; "os"; "strings")
fmt.Print(strings.Repeat("a", 2), os.Getenv("PPF_TEST_ENV"))`, `stdout:aaset`},
		{`import "fmt"
fmt.Print("re-import")`, `stdout:re-import`},
		{`[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}`, `result:[1 2 3 4 5 6 7 8 9 10 ... (12 items)][]`},
	}
	runCells(t, e, cases)
}

// A result whose type comes from a package the cell never imported (io/fs
// here) gets its import from the kernel, also when the session already
// holds declarations (once only: the second cell imports nothing more).
func TestResultOfUnimportedPackage(t *testing.T) {
	runCells(t, newEngine(t), []cellCase{
		{`func g() {}`, ``},
		{`import "os"
os.DirFS(".")`, `result:.[]`},
		{`os.DirFS("/")`, `result:/[]`},
	})
}

type cellCase struct{ code, want string }

// runCells runs each cell in turn and compares its outputs.
func runCells(t *testing.T, e *Engine, cases []cellCase) {
	t.Helper()
	for _, c := range cases {
		got, err := run(t, e, c.code)
		if err != nil {
			t.Errorf("%q: %v", c.code, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.code, got, c.want)
		}
	}
}

func TestFailures(t *testing.T) {
	e := newEngine(t)
	cases := []struct{ code, name, value string }{
		{`import "os"
os.Exit(3)`, "Exit", "os.Exit(3) stopped the cell"},
		{`import "log"
log.Fatal("boom")`, "Exit", "log.Fatal stopped the cell"},
		{`func inner() { panic("deep") }
func outer() { inner() }
outer()`, "Panic", "deep"},
		{`undefinedThing + 1`, "CompileError", "undefined"},
		{`func f() {`, "CompileError", "close it"},
	}
	for _, c := range cases {
		got, err := run(t, e, c.code)
		if err == nil {
			t.Errorf("%q: no error; outputs %q", c.code, got)
			continue
		}
		if err.Name != c.name || !strings.Contains(err.Value, c.value) {
			t.Errorf("%q: got %s: %s, want %s containing %q", c.code, err.Name, err.Value, c.name, c.value)
		}
		if err.Name == "Panic" {
			tb := strings.Join(err.Traceback, "\n")
			for _, want := range []string{"panic: deep", "line 1: in inner", "line 2: in outer", "line 3: in the cell"} {
				if !strings.Contains(tb, want) {
					t.Errorf("traceback %q lacks %q", tb, want)
				}
			}
		}
	}
	// The kernel survives: the next cell runs.
	if got, err := run(t, e, `1 + 1`); err != nil || got != "result:2[]" {
		t.Errorf("after failures: %q, %v", got, err)
	}
}

func TestInterrupt(t *testing.T) {
	e := newEngine(t)
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.Interrupt()
	}()
	start := time.Now()
	_, err := run(t, e, `n := 0
for { n++ }`)
	if err == nil || err.Name != "Interrupted" {
		t.Fatalf("got %v, want Interrupted", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.Interrupt()
	}()
	_, err = run(t, e, `import "time"
import "github.com/ppfkit/ppf/ppfnb/display"
select { case <-display.Context().Done(): case <-time.After(time.Minute): }`)
	if err == nil || err.Name != "Interrupted" {
		t.Fatalf("context: got %v, want Interrupted", err)
	}
}

func TestCompleteInspect(t *testing.T) {
	e := newEngine(t)
	if _, err := run(t, e, `import "strings"
import "github.com/ppfkit/ppf/ppfnb"
counter := 41
opt := ppfnb.GenerateOptions{Steps: 3}`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code       string
		want       string
		start, end int
	}{
		{"strings.ToU", "ToUpper", 8, 11},
		{"x := coun", "counter", 5, 9},
		{"ppfnb.Lo", "Load", 6, 8},
		{"opt.Ste", "Steps", 4, 7},
		{"fo", "for", 0, 2},
		{"é := strings.ToU", "ToUpper", 13, 16},
	} {
		m, s, en := e.Complete(c.code, len([]rune(c.code)))
		if !contains(m, c.want) || s != c.start || en != c.end {
			t.Errorf("Complete(%q) = %v, %d, %d; want %s at %d-%d", c.code, m, s, en, c.want, c.start, c.end)
		}
	}
	for _, c := range []struct {
		code   string
		cursor int
		want   string
	}{
		{"strings.ToUpper", 10, "strings.ToUpper func(string) string"},
		{"strings.ToUpper(", 16, "strings.ToUpper func(string) string"},
		{"counter", 2, "counter int = 41"},
		{"ppfnb.LM", 8, "ppfnb.LM is a type: ppfnb.LM (struct)"},
	} {
		got, found := e.Inspect(c.code, c.cursor)
		if head, _, _ := strings.Cut(got, "\n"); !found || head != c.want { // the docs after it: docs_test.go
			t.Errorf("Inspect(%q) = %q, %v; want %q", c.code, got, found, c.want)
		}
	}
	if _, found := e.Inspect("nothingHere", 3); found {
		t.Errorf("Inspect of an unknown name found something")
	}
	for code, want := range map[string]string{"x := 1": "complete", "func f() {": "incomplete", "s := `abc": "incomplete", "x := )": "invalid"} {
		if got, _ := IsComplete(code); got != want {
			t.Errorf("IsComplete(%q) = %s, want %s", code, got, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Loops over integers (Go 1.22), which yaegi does not know, run: the
// engine rewrites their headers when the operand is known to be an integer.
func TestRangeOverInt(t *testing.T) {
	e := newEngine(t)
	runCells(t, e, []cellCase{
		{`import "fmt"`, ``},
		{`for i := range 3 { fmt.Print(i) }`, `stdout:012`},
		{`n := 4`, ``},
		{`s := 0
for i := range n { s += i }
s`, `result:6[]`},
		{`type M struct{ Layers int }
m := M{Layers: 2}`, ``},
		{`for range m.Layers { fmt.Print("x") }`, `stdout:xx`},
		{`xs := []string{"a", "b"}`, ``},
		{`for i := range len(xs) { fmt.Print(i) }`, `stdout:01`},
		{`for i, v := range xs { fmt.Print(i, v) }`, `stdout:0a1b`},
		{`k := int64(3)
var total int64
for i := range k { total += i }
total`, `result:3[]`},
		{`c := 0
for i := range 3 {
	for j := range i { c += j }
}
c`, `result:1[]`},
		{`func count(n int) int {
	c := 0
	for range n { c++ }
	return c
}
count(5)`, `result:5[]`},
		{`bound := 3
for i := range bound { bound = 0; fmt.Print(i) }`, `stdout:012`},
	})
	// The rewrite keeps lines where they were.
	_, err := run(t, e, "for i := range 2 { _ = i }\n\nundefinedName")
	if err == nil || !strings.Contains(err.Value, "line 3") {
		t.Errorf("an error after a rewritten loop: %v, want it on line 3", err)
	}
}
