package kernel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel/kerneltest"
	"github.com/ppfkit/ppf/ppfnb"
)

// TestWhyThroughJupyterClient checks each reason the kernel's second
// version was written for (issue kernel2, "Why") through the real Jupyter
// client: testdata/kernel2/drive.py starts the installed kernel with
// jupyter_client's KernelManager and runs cells with its
// BlockingKernelClient. Each subtest has a kernel of its own.
func TestWhyThroughJupyterClient(t *testing.T) {
	kerneltest.RequirePython(t, "jupyter_client")
	env, _ := kerneltest.Install(t)
	run := func(t *testing.T, steps ...step) []ran {
		t.Helper()
		return drive(t, env, steps)
	}

	t.Run("LoopClosures", func(t *testing.T) {
		r := run(t, cells(
			`import "fmt"
var fs []func() int
for i := range 3 { fs = append(fs, func() int { return i }) }
fmt.Println(fs[0](), fs[1](), fs[2]())`,
			`var gs []func() int
for i := 0; i < 3; i++ { gs = append(gs, func() int { return i }) }
fmt.Println(gs[0](), gs[1](), gs[2]())`,
			`var hs []func() string
for i, s := range []string{"a", "b", "c"} { hs = append(hs, func() string { return fmt.Sprint(i, s) }) }
fmt.Println(hs[0](), hs[1](), hs[2]())`,
			// The same inside a function the cell declares.
			`func makeFuncs() []func() int {
	var fs []func() int
	for i := 0; i < 3; i++ {
		fs = append(fs, func() int { return i * 10 })
	}
	return fs
}
ks := makeFuncs()
fmt.Println(ks[0](), ks[1](), ks[2]())`,
		)...)
		wantOutput(t, r[0], "0 1 2\n", "")
		wantOutput(t, r[1], "0 1 2\n", "")
		wantOutput(t, r[2], "0a 1b 2c\n", "")
		wantOutput(t, r[3], "0 10 20\n", "")
	})

	t.Run("FailedCellKeepsState", func(t *testing.T) {
		needModel(t, "babyllama-tok105")
		r := run(t, cells(
			`import ("fmt"; "github.com/ppfkit/ppf/ppfnb")
lm, err := ppfnb.Load("babyllama-tok105", "")
first := lm
fmt.Println(lm.Name, err)`,
			`lm, err := ppfnb.Load("babyllama-tok105", "")
fmt.Println("ran")
x := undefinedName + 1`,
			`fmt.Println(lm == nil, lm == first, lm.Name, err)`,
			`a := 5`,
			"a := 10\nb := undefinedX",
			`a`,
			`b`,
		)...)
		wantOutput(t, r[0], "babyllama-tok105 <nil>\n", "")
		// The whole cell is refused before any of it runs.
		wantError(t, r[1], "CompileError", "line 3:6: undefined: undefinedName")
		// lm is the model the first cell loaded, not a nil left by the
		// failed cell's redefinition.
		wantOutput(t, r[2], "false true babyllama-tok105 <nil>\n", "")
		wantOutput(t, r[3], "", "")
		wantError(t, r[4], "CompileError", "line 2:6: undefined: undefinedX")
		wantOutput(t, r[5], "", "5")
		wantError(t, r[6], "CompileError", "line 1:1: undefined: b")
	})

	t.Run("GoroutinePanic", func(t *testing.T) {
		steps := cells(
			`import "time"
go func() { panic("boom") }()
time.Sleep(2 * time.Second)`,
			`1 + 1`,
			`// the goroutine panics after the cell has finished
go func() {
	time.Sleep(200 * time.Millisecond)
	panic("late")
}()`,
			`1 + 1`,
			`1 + 1`,
		)
		steps[3].Pause = 1 // the goroutine the third cell started panics meanwhile
		r := run(t, steps...)
		wantError(t, r[0], "Panic", "boom")
		if at := fmt.Sprintf("line 2 of cell %d", r[0].Reply.ExecutionCount); !strings.Contains(strings.Join(r[0].Reply.Traceback, "\n"), at) {
			t.Errorf("the traceback %q does not name the go statement, %s", r[0].Reply.Traceback, at)
		}
		wantOutput(t, r[1], "", "2")
		wantOutput(t, r[2], "", "")
		if r[3].Reply.Status != "ok" || r[3].result() != "2" {
			t.Errorf("the cell after the late panic: %+v", r[3])
		}
		if got, want := r[3].stream("stderr"), fmt.Sprintf("a goroutine started at line 2 of cell %d panicked: late\n", r[2].Reply.ExecutionCount); got != want {
			t.Errorf("the cell after the late panic printed %q on stderr, want %q", got, want)
		}
		wantOutput(t, r[4], "", "2") // reported once
	})

	t.Run("MemoryFreed", func(t *testing.T) {
		// Each cell rebinds data to a new 400 MiB slice. make takes
		// fresh zero pages from the system and only data[0] is written, so
		// the machine commits little memory whatever the kernel keeps; the
		// Go heap counts every slice still reachable: were the earlier
		// slices still held, HeapAlloc would be 1200 MiB or more.
		const alloc = `data := make([]byte, 400<<20)
data[0] = 1`
		r := run(t, cells(alloc, alloc, alloc, `import ("fmt"; "runtime")
runtime.GC()
var ms runtime.MemStats
runtime.ReadMemStats(&ms)
fmt.Println(len(data), data[0])
ms.HeapAlloc >> 20`)...)
		for _, x := range r[:3] {
			wantOutput(t, x, "", "")
		}
		if r[3].Reply.Status != "ok" || r[3].stream("stdout") != "419430400 1\n" {
			t.Fatalf("the measuring cell: %+v", r[3])
		}
		mib, err := strconv.Atoi(r[3].result())
		if err != nil {
			t.Fatalf("HeapAlloc: %q: %v", r[3].result(), err)
		}
		if mib < 400 || mib >= 600 {
			t.Errorf("HeapAlloc after three 400 MiB cells: %d MiB, want the last slice only (400 to 600 MiB)", mib)
		}
		t.Logf("HeapAlloc %d MiB", mib)
	})

	t.Run("ErrorMessages", func(t *testing.T) {
		r := run(t, cells(
			`z := undefinedThing + 1`,
			`import ("fmt"; "strconv")
if v, err := strconv.Atoi("4"); err == nil { fmt.Println(v) }`,
			`func bad() int { return "x" }`,
			`bad()`,
			`var s []int
fmt.Println(len(s))
_ = s[5]`,
			`var p *struct{ X int }
fmt.Println(p == nil)
fmt.Println(p.X)`,
			`var m map[string]int
fmt.Println(len(m))
m["a"] = 1`,
			`import "github.com/google/uuid"`,
		)...)
		wantError(t, r[0], "CompileError", "line 1:6: undefined: undefinedThing")
		wantOutput(t, r[1], "4\n", "")
		wantError(t, r[2], "CompileError", `line 1:25: cannot use "x" (untyped string constant) as int value in return statement`)
		wantError(t, r[3], "CompileError", "line 1:1: undefined: bad")
		for i, want := range []struct{ stdout, evalue string }{
			{"0\n", "runtime error: index out of range [5] with length 0"},
			{"true\n", "runtime error: invalid memory address or nil pointer dereference"},
			{"0\n", "assignment to entry in nil map"},
		} {
			x := r[4+i]
			wantError(t, x, "Panic", want.evalue)
			if got := x.stream("stdout"); got != want.stdout {
				t.Errorf("%q printed %q before the panic, want %q", x.code, got, want.stdout)
			}
			// The panic is on the cell's third line; the first is a
			// declaration and the second a statement that ran.
			if got := cellLine(x.Reply.Traceback); got != "line 3" {
				t.Errorf("%q: the traceback names %q, want line 3: %q", x.code, got, x.Reply.Traceback)
			}
		}
		if x := r[7]; x.Reply.Ename != "CompileError" || !strings.Contains(x.Reply.Evalue, "package github.com/google/uuid is not bundled with this kernel") {
			t.Errorf("importing a package not bundled: %s: %q", x.Reply.Ename, x.Reply.Evalue)
		} else if !strings.HasPrefix(x.Reply.Evalue, "line 1:8: ") {
			t.Errorf("importing a package not bundled: %q does not name the cell's line 1:8", x.Reply.Evalue)
		}
	})

	t.Run("MissingGo", func(t *testing.T) {
		r := run(t, cells(
			`import "fmt"
type Point struct{ X int }
p := Point{X: 1}
fmt.Println(p)`,
			`type Point struct{ X, Y int }`,
			`q := Point{X: 1, Y: 2}
fmt.Printf("%+v\n", q)`,
			`import "iter"
func evens(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; i < n; i += 2 {
			if !yield(i) {
				return
			}
		}
	}
}
for v := range evens(100) {
	if v > 6 {
		break
	}
	fmt.Print(v, " ")
}
fmt.Println()`,
			`import "slices"
xs := []int{3, 1, 4, 1, 5, 9, 2, 6}
slices.Sort(xs)
fmt.Println(xs, slices.Max(xs))`,
			`import "maps"
m := map[string]int{"b": 2, "a": 1, "c": 3}
fmt.Println(slices.Sorted(maps.Keys(m)))`,
			`func Map[T, U any](s []T, f func(T) U) []U {
	out := make([]U, 0, len(s))
	for _, v := range s {
		out = append(out, f(v))
	}
	return out
}
fmt.Printf("%q\n", Map([]int{1, 2, 3}, func(i int) string { return fmt.Sprint(i * 10) }))`,
			`type Number interface {
	~int | ~int64 | ~float64
}
func Sum[T Number](xs ...T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}
type MyInt int
fmt.Println(Sum(1, 2, 3), Sum(1.5, 2.5), Sum(MyInt(4), MyInt(5)))`,
			`type Greeter interface{ Greet() string }
type Dog struct{ Name string }
func (d Dog) Greet() string { return d.Name + " says woof" }
d := Dog{Name: "Rex"}`,
			`var g Greeter = d
fmt.Println(g.Greet())`,
			`scale := 3`,
			`func times(x int) int { return x * scale }
func twice(x int) int { return times(x) + times(x) }
fmt.Println(twice(7))`,
			`scale = 10
fmt.Println(twice(7))`,
			`import "strconv"
strconv.Atoi("42")`,
		)...)
		wantOutput(t, r[0], "{1}\n", "")
		if x := r[1]; x.Reply.Status != "ok" || x.result() != "" || x.stream("stdout") != "" {
			t.Errorf("redefining Point: %+v", x)
		}
		wantOutput(t, r[2], "{X:1 Y:2}\n", "")
		wantOutput(t, r[3], "0 2 4 6 \n", "")
		wantOutput(t, r[4], "[1 1 2 3 4 5 6 9] 9\n", "")
		wantOutput(t, r[5], "[a b c]\n", "")
		wantOutput(t, r[6], `["10" "20" "30"]`+"\n", "")
		wantOutput(t, r[7], "6 4 9\n", "")
		wantOutput(t, r[8], "", "")
		wantOutput(t, r[9], "Rex says woof\n", "")
		wantOutput(t, r[10], "", "")
		wantOutput(t, r[11], "42\n", "")
		wantOutput(t, r[12], "140\n", "")
		wantOutput(t, r[13], "", "42, <nil>")
	})

	// What the first version of the front end lacked: a cell's functions
	// reading its own top-level variables, and errors among several results.
	t.Run("MissingGoGaps", func(t *testing.T) {
		t.Run("SameCellVariable", func(t *testing.T) {
			r := run(t, cells(`import "fmt"
var k = 2
func ktimes(x int) int { return x * k }
func ktwice(x int) int { return ktimes(x) + ktimes(x) }
fmt.Println(ktwice(7))`,
				`j := 3
func jtimes(x int) int { return x * j }
fmt.Println(jtimes(7))`)...)
			wantOutput(t, r[0], "28\n", "")
			wantOutput(t, r[1], "21\n", "")
		})
		t.Run("TwoValueErrorText", func(t *testing.T) {
			r := run(t, cells(`import "strconv"
strconv.Atoi("x")`)...)
			wantOutput(t, r[0], "", `0, strconv.Atoi: parsing "x": invalid syntax`)
		})
	})

	t.Run("InterruptCompiledWork", func(t *testing.T) {
		needModel(t, "stories260K")
		// Measuring stories260K's perplexity over all of wikitext-2's test
		// text (803k tokens) takes about 17 s of wall time and 23 s of CPU
		// time on a 2-core machine; it is interrupted after 1.5 s.
		steps := cells(
			`import ("context"; "fmt"; "github.com/ppfkit/ppf/native"; "github.com/ppfkit/ppf/ppfnb")
lm, err := ppfnb.Load("stories260K", "")
fmt.Println(lm.Name, err)`,
			`ev, err := lm.Evaluate(context.Background(), "wikitext-2-raw/wiki.test.raw", native.EvalOptions{SeqLen: 256})
fmt.Println(ev.Perplexity, err)`,
			`1 + 1`,
		)
		steps[1].InterruptAfter, steps[1].CPUAfter, steps[1].Timeout = 1.5, 2, 60
		r := run(t, steps...)
		wantOutput(t, r[0], "stories260K <nil>\n", "")
		x := r[1]
		wantError(t, x, "Interrupted", "the cell was interrupted")
		t.Logf("the cell ended %.2f s after the interrupt; the kernel used %.2f s of CPU time in the cell and %.2f s in the 2 s after it",
			x.AfterInterrupt, x.CPU[0]-r[0].CPU[0], x.CPU[1]-x.CPU[0])
		if x.AfterInterrupt <= 0 || x.AfterInterrupt > 2 {
			t.Errorf("the cell ended %.2f s after the interrupt, want within 2 s", x.AfterInterrupt)
		}
		if used := x.CPU[0] - r[0].CPU[0]; used < 0.2 {
			t.Errorf("the evaluation used %.2f s of CPU time before the interrupt: it did not run", used)
		}
		// The compiled evaluation, when it goes on, uses 0.6 to 1.3 s of
		// CPU time a second here (with a context that the interrupt does
		// not cancel: context.WithoutCancel); an idle kernel uses next to
		// nothing.
		if used := x.CPU[1] - x.CPU[0]; used > 0.3 {
			t.Errorf("the kernel used %.2f s of CPU time in the 2 s after the interrupted cell: the evaluation goes on", used)
		}
		wantOutput(t, r[2], "", "2")
		if r[2].Seconds > 1 {
			t.Errorf("1 + 1 took %.2f s after the interrupt", r[2].Seconds)
		}
	})
}

// step is one cell for testdata/kernel2/drive.py (see there).
type step struct {
	Code           string  `json:"code"`
	Timeout        float64 `json:"timeout,omitempty"`
	Pause          float64 `json:"pause,omitempty"`
	InterruptAfter float64 `json:"interrupt_after,omitempty"`
	CPUAfter       float64 `json:"cpu_after,omitempty"`
}

func cells(code ...string) []step {
	steps := make([]step, len(code))
	for i, c := range code {
		steps[i].Code = c
	}
	return steps
}

// ran is what a cell did, as drive.py reports it.
type ran struct {
	code  string
	Reply struct {
		Status         string   `json:"status"`
		ExecutionCount int      `json:"execution_count"`
		Ename          string   `json:"ename"`
		Evalue         string   `json:"evalue"`
		Traceback      []string `json:"traceback"`
	} `json:"reply"`
	Outputs []struct {
		Type      string                          `json:"type"` // the iopub message type
		Name      string                          `json:"name"`
		Text      string                          `json:"text"`
		Data      map[string]kerneltest.Multiline `json:"data"`
		Ename     string                          `json:"ename"`
		Evalue    string                          `json:"evalue"`
		Traceback []string                        `json:"traceback"`
	} `json:"outputs"`
	Seconds        float64   `json:"seconds"`         // from the request to the reply
	AfterInterrupt float64   `json:"after_interrupt"` // from the interrupt to the reply
	CPU            []float64 `json:"cpu"`             // the kernel's CPU seconds at the reply, and cpu_after later
}

// stream returns what the cell printed on the stream ("stdout" or
// "stderr").
func (r ran) stream(name string) string {
	var sb strings.Builder
	for _, o := range r.Outputs {
		if o.Type == "stream" && o.Name == name {
			sb.WriteString(o.Text)
		}
	}
	return sb.String()
}

// result returns the text/plain of the cell's execute_result, "" when it
// had none.
func (r ran) result() string {
	for _, o := range r.Outputs {
		if o.Type == "execute_result" {
			return string(o.Data["text/plain"])
		}
	}
	return ""
}

// drive runs the cells, in order, in a fresh kernel started by
// drive.py through jupyter_client.
func drive(t *testing.T, env []string, steps []step) []ran {
	t.Helper()
	in, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kerneltest.Python, "testdata/kernel2/drive.py")
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var out []ran
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || runErr != nil || len(out) != len(steps) {
		t.Fatalf("drive.py: %v, %d results for %d cells (%v)\nstdout: %s\nstderr: %s", runErr, len(out), len(steps), err, stdout.Bytes(), stderr.Bytes())
	}
	for i := range out {
		out[i].code = steps[i].Code
	}
	return out
}

// wantOutput checks that the cell succeeded, printed stdout and nothing on
// stderr, and showed result as its text/plain execute_result ("": none).
func wantOutput(t *testing.T, r ran, stdout, result string) {
	t.Helper()
	if r.Reply.Status != "ok" {
		t.Errorf("%q failed: %s: %s %q", r.code, r.Reply.Ename, r.Reply.Evalue, r.Reply.Traceback)
		return
	}
	if got := r.stream("stdout"); got != stdout {
		t.Errorf("%q printed %q, want %q", r.code, got, stdout)
	}
	if got := r.stream("stderr"); got != "" {
		t.Errorf("%q printed %q on stderr", r.code, got)
	}
	if got := r.result(); got != result {
		t.Errorf("%q showed %q, want %q", r.code, got, result)
	}
}

// wantError checks that the cell failed with ename and evalue, in its
// reply and in one error output.
func wantError(t *testing.T, r ran, ename, evalue string) {
	t.Helper()
	if r.Reply.Status != "error" || r.Reply.Ename != ename || r.Reply.Evalue != evalue {
		t.Errorf("%q: reply %s %s: %q, want error %s: %q", r.code, r.Reply.Status, r.Reply.Ename, r.Reply.Evalue, ename, evalue)
	}
	n := 0
	for _, o := range r.Outputs {
		if o.Type == "error" {
			n++
			if o.Ename != r.Reply.Ename || o.Evalue != r.Reply.Evalue {
				t.Errorf("%q: the error output %s: %q differs from the reply", r.code, o.Ename, o.Evalue)
			}
		}
	}
	if n != 1 {
		t.Errorf("%q: %d error outputs, want 1", r.code, n)
	}
}

// cellLine returns the cell's own frame in a panic's traceback, as
// "line 3", or "".
func cellLine(traceback []string) string {
	for _, l := range traceback {
		if l = strings.TrimSpace(l); strings.HasSuffix(l, ": in the cell") {
			return strings.TrimSuffix(l, ": in the cell")
		}
	}
	return ""
}

// needModel skips the test when the shared model is missing.
func needModel(t *testing.T, name string) {
	t.Helper()
	lm, err := ppfnb.Load(name, "")
	if err != nil {
		t.Skipf("the shared models are missing: %v", err)
	}
	lm.Close()
}
