package cell

// TestDifferential is the engine's yardstick: it runs a corpus of cell
// sequences, each through a fresh Engine, and compares every cell's output
// with what the Go compiler makes of the same cells.
//
// The corpus is testdata/corpus/*.txt, one file per category, each a list
// of cases (text before a case's first cell is a comment):
//
//	=== closure-range-int
//	-- cell
//	import "fmt"
//	var fs []func() int
//	for i := range 3 { fs = append(fs, func() int { return i }) }
//	-- cell
//	for _, f := range fs { fmt.Println(f()) }
//
// That case is "loops/closure-range-int" in loops.txt: run it alone with
// go test -run 'TestDifferential/loops/closure-range-int'. "-- cell" is
// valid Go; "-- cell invalid" is rejected by the compiler, and the kernel
// must refuse it (CompileError), printing nothing and changing nothing
// (the next cells use the earlier state); "-- cell panics" panics at run
// time: the kernel prints what it printed first, then fails ("Panic").
//
// The reference program of a case imports what its cells import (and
// use); its package level has their type, func, method and const
// declarations; main has the rest (statements, and var declarations, as
// local variables), each cell's in a block nested in the previous cell's,
// so that a later x := shadows an earlier x as the kernel's redefinition
// does, after a marker line that cuts the output by cell, and followed by
// "_ = x" for each variable the cell declares at top level. A panics
// cell's items run in func() { defer ppfRecover(); ... }(), which prints
// "panic: " and fmt.Sprint of the value. Invalid cells are left out, and
// each is compiled after the cells before it, to check that it is invalid.
// Declarations bind late in the kernel (a redefined type, func, method or
// const replaces the old one everywhere), so the reference of cell k has
// the declarations as they stand after cell k, in first-appearance order,
// and the statements of cells 1..k: one program per run of cells in which
// no declaration changes.
//
// Rules for the corpus that follow: cells before a redefinition still
// compile under the new declarations and leave no state that it would
// change; package-level functions use no cell variables; a panics cell
// declares nothing later cells use; labels are unique within a case; no
// top-level defer; goroutines end or block within their cell; output is
// deterministic; only the standard library; ppfmt and ppfRecover are taken.
//
// All programs are built by one go build, and each runs for at most 10 s.
// Each case runs in a child process (this test binary, so that a crash
// loses one case) with a 30 s deadline. A case is identical (every cell
// matches), refused (its first mismatch is a valid cell refused with
// CompileError or Unsupported) or different. The test fails on any
// different case, or when 5% or more are refused. PPF_DIFFTEST_REPORT=file
// writes the full report there.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb/display"
)

const (
	caseDeadline = 30 * time.Second
	refDeadline  = 10 * time.Second
)

type dcase struct {
	name, file string
	line       int
	cells      []dcell
}

type dcell struct {
	kind string // "", "invalid" or "panics"
	code string
	line int
}

var (
	caseNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	markerRe   = regexp.MustCompile("\x00cell (\\d+)\x00\n")
)

// loadCorpus reads the cases of every file in dir.
func loadCorpus(dir string) ([]*dcase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no corpus in %s (%v)", dir, err)
	}
	var cases []*dcase
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		file := filepath.Base(f)
		var c *dcase
		for i, l := range strings.Split(string(data), "\n") {
			switch {
			case strings.HasPrefix(l, "=== "):
				name := strings.TrimSuffix(file, ".txt") + "/" + strings.TrimSpace(l[4:])
				if !caseNameRe.MatchString(strings.TrimSpace(l[4:])) || seen[name] {
					return nil, fmt.Errorf("%s:%d: bad or repeated case name %q", file, i+1, name)
				}
				seen[name] = true
				c = &dcase{name: name, file: file, line: i + 1}
				cases = append(cases, c)
			case strings.HasPrefix(l, "-- cell"):
				kind := strings.TrimSpace(l[len("-- cell"):])
				if c == nil || (kind != "" && kind != "invalid" && kind != "panics") {
					return nil, fmt.Errorf("%s:%d: bad cell marker %q", file, i+1, l)
				}
				c.cells = append(c.cells, dcell{kind: kind, line: i + 2})
			case c != nil && len(c.cells) > 0:
				c.cells[len(c.cells)-1].code += l + "\n"
			}
		}
	}
	for _, c := range cases {
		if len(c.cells) == 0 {
			return nil, fmt.Errorf("%s:%d: case %s has no cells", c.file, c.line, c.name)
		}
		for i := range c.cells {
			c.cells[i].code = strings.TrimRight(c.cells[i].code, " \t\n") + "\n"
		}
	}
	return cases, nil
}

// A declUnit is one package-level declaration, known by the names it
// declares: "T", "f", "T.M" for a method.
type declUnit struct {
	keys []string
	text string
}

type dimport struct{ name, path string }

// cellParts is a cell cut for the reference program.
type cellParts struct {
	index   int // in the case's cells
	panics  bool
	foreign bool // it imports from outside the standard library
	imports []dimport
	decls   []declUnit
	stmts   string
	vars    []string // the variables its statements declare at top level
}

// refProg is one reference program of a case.
type refProg struct {
	c        *dcase
	sections []int // the cells whose reference output it gives
	invalid  int   // for the check of an invalid cell: its index, else -1
	src      string
}

// diffPub keeps what a cell prints on stdout.
type diffPub struct {
	mu     sync.Mutex
	stdout strings.Builder
}

func (p *diffPub) Stream(name, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if name == "stdout" {
		p.stdout.WriteString(text)
	}
}
func (p *diffPub) text() string                     { p.mu.Lock(); defer p.mu.Unlock(); return p.stdout.String() }
func (*diffPub) Display(display.Data, bool)         {}
func (*diffPub) Clear(bool)                         {}
func (*diffPub) Page(string)                        {}
func (*diffPub) Result(display.Data)                {}
func (*diffPub) Error(*Error)                       {}
func (*diffPub) Input(string, bool) (string, error) { return "", io.EOF }

// outcome is what the kernel did with one cell.
type outcome struct {
	Out         string
	Name, Value string // the error's, if any
	Late        bool   // the case ran past its deadline
}

// runChild runs the cells of the case named in PPF_DIFFTEST_CHILD through
// a fresh engine, appending each cell's outcome, as a line of JSON, to the
// file PPF_DIFFTEST_OUT.
func runChild(t *testing.T, name string) {
	cases, err := loadCorpus(filepath.Join("testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(os.Getenv("PPF_DIFFTEST_OUT"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	ctx, cancel := context.WithTimeout(context.Background(), caseDeadline)
	defer cancel()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cases, func(c *dcase) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no case %s", name)
	}
	for _, cl := range cases[i].cells {
		pub, done := &diffPub{}, make(chan *Error, 1)
		go func() { done <- e.Execute(ctx, cl.code, pub) }()
		var o outcome
		select {
		case err := <-done:
			if err != nil {
				o.Name, o.Value = err.Name, err.Value
			}
		case <-time.After(caseDeadline + 5*time.Second): // Execute ignored the deadline
		}
		o.Out, o.Late = pub.text(), ctx.Err() != nil
		if err := enc.Encode(o); err != nil || o.Late {
			return
		}
	}
}

// runCase runs c in a child process and compares each cell's outcome with
// want, up to the first mismatch.
func runCase(c *dcase, want []string) (class, detail string) {
	out, err := os.CreateTemp("", "difftest-*.json")
	if err != nil {
		return "different", err.Error()
	}
	out.Close()
	defer os.Remove(out.Name())
	ctx, cancel := context.WithTimeout(context.Background(), caseDeadline+15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDifferential$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PPF_DIFFTEST_CHILD="+c.name, "PPF_DIFFTEST_OUT="+out.Name())
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	runErr := cmd.Run()
	data, _ := os.ReadFile(out.Name())
	dec := json.NewDecoder(bytes.NewReader(data))
	for i, cl := range c.cells {
		var o outcome
		got, w := "", want[i]
		if err := dec.Decode(&o); err != nil {
			class, got = "different", fmt.Sprintf("(the kernel's process ended: %v)\n%s", runErr, stderr.String()[:min(stderr.Len(), 1500)])
		}
		got += o.Out
		switch {
		case class != "":
		case o.Late:
			class, got = "different", got+fmt.Sprintf("(the case ran past its %v deadline)\n", caseDeadline)
		case cl.kind == "invalid":
			w = "error CompileError\n"
			switch {
			case o.Name == "":
				class, got = "different", got+"(accepted)\n"
			case o.Name != "CompileError" || o.Out != "":
				class, got = "different", got+"error "+o.Name+": "+o.Value+"\n"
			default:
				got = w
			}
		case o.Name == "CompileError" || o.Name == "Unsupported":
			class, got = "refused", got+"error "+o.Name+": "+o.Value+"\n"
		case o.Name == "Panic":
			got += "panic: " + o.Value + "\n"
		case o.Name != "":
			got += "error " + o.Name + ": " + o.Value + "\n"
		}
		if class == "" && got != w {
			class = "different"
		}
		if class != "" {
			return class, fmt.Sprintf("%s %s (%s:%d), cell %d (%s, line %d):\n%s  want:\n%s  got:\n%s",
				strings.ToUpper(class), c.name, c.file, c.line, i+1, cmp.Or(cl.kind, "valid"), cl.line,
				indent(cl.code, "  | "), indent(w, "    "), indent(got, "    "))
		}
	}
	return "identical", ""
}

func indent(s, prefix string) string {
	if s == "" {
		return prefix + "(nothing)\n"
	}
	if s = strings.TrimSuffix(s, "\n"); len(s) > 3000 {
		s = s[:3000] + "..."
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// selected tells whether the -run pattern may select case name, so that
// go test -run TestDifferential/loops builds only the loops.
func selected(name string) bool {
	f := flag.Lookup("test.run")
	if f == nil {
		return true
	}
	pats, parts := strings.Split(f.Value.String(), "/"), strings.Split(name, "/")
	for i := 1; i < len(pats) && i-1 < len(parts); i++ {
		if ok, err := regexp.MatchString(pats[i], parts[i-1]); err == nil && !ok {
			return false
		}
	}
	return true
}

type dresult struct{ name, class, detail string } // class: identical, refused or different

func TestDifferential(t *testing.T) {
	if name := os.Getenv("PPF_DIFFTEST_CHILD"); name != "" {
		runChild(t, name)
		return
	}
	if testing.Short() {
		t.Skip("the differential corpus builds hundreds of programs")
	}
	start := time.Now()
	all, err := loadCorpus(filepath.Join("testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []*dcase
	for _, c := range all {
		if selected(c.name) {
			cases = append(cases, c)
		}
	}
	want, bugs := buildReferences(t, cases)
	for _, b := range bugs {
		t.Errorf("corpus bug: %s", b)
	}
	var mu sync.Mutex
	var results []dresult
	t.Cleanup(func() { summarize(t, results, len(bugs), time.Since(start)) })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := want[c.name]
			if w == nil {
				t.Skip("no reference output (a corpus bug, above)")
			}
			t.Parallel()
			class, detail := runCase(c, w)
			mu.Lock()
			results = append(results, dresult{c.name, class, detail})
			mu.Unlock()
			switch class {
			case "different":
				t.Error(detail)
			case "refused":
				t.Log(detail)
			}
		})
	}
}

func summarize(t *testing.T, results []dresult, bugs int, took time.Duration) {
	slices.SortFunc(results, func(a, b dresult) int { return strings.Compare(a.name, b.name) })
	count, cats := map[string]int{}, map[string]map[string]int{}
	var catNames []string
	for _, r := range results {
		count[r.class]++
		cat, _, _ := strings.Cut(r.name, "/")
		if cats[cat] == nil {
			cats[cat] = map[string]int{}
			catNames = append(catNames, cat)
		}
		cats[cat][r.class]++
		cats[cat]["all"]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases: %d identical, %d refused, %d different (%d corpus bugs) in %v\n",
		len(results), count["identical"], count["refused"], count["different"], bugs, took.Round(time.Second))
	for _, cat := range catNames {
		m := cats[cat]
		fmt.Fprintf(&b, "  %-14s %3d cases: %3d identical, %3d refused, %3d different\n", cat, m["all"], m["identical"], m["refused"], m["different"])
	}
	t.Log("\n" + b.String())
	for _, class := range []string{"different", "refused"} {
		for _, r := range results {
			if r.class == class {
				b.WriteString("\n" + r.detail)
			}
		}
	}
	if path := os.Getenv("PPF_DIFFTEST_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if count["different"] > 0 || count["refused"] > 0 && count["refused"]*20 >= len(results) {
		t.Errorf("the engine differs from Go: %d different, %d refused of %d cases (must be 0, and under 5%%)", count["different"], count["refused"], len(results))
	}
}
