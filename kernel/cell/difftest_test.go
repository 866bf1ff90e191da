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
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
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

// splitItems cuts a cell at the semicolons (written or implied) outside
// brackets, returning each item's text and first token.
func splitItems(code string) (texts []string, first []token.Token, err error) {
	file := token.NewFileSet().AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	depth, start, end := 0, -1, 0
	for {
		pos, tok, lit := s.Scan()
		off := file.Offset(pos)
		if tok == token.EOF || (tok == token.SEMICOLON && depth == 0) {
			if start >= 0 {
				texts = append(texts, code[start:end])
			}
			if start = -1; tok == token.EOF {
				break
			}
			continue
		}
		if start < 0 {
			start, first = off, append(first, tok)
		}
		if end = off + len(lit); lit == "" {
			end = off + len(tok.String())
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if depth != 0 {
		return nil, nil, fmt.Errorf("unbalanced brackets")
	}
	return texts, first, nil
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

func parseCell(index int, cl dcell) (*cellParts, error) {
	texts, first, err := splitItems(cl.code)
	if err != nil {
		return nil, err
	}
	p := &cellParts{index: index, panics: cl.kind == "panics"}
	var stmts []string
	fset := token.NewFileSet()
	for i, text := range texts {
		if first[i] != token.IMPORT && first[i] != token.TYPE && first[i] != token.CONST && first[i] != token.FUNC {
			stmts = append(stmts, text)
			continue
		}
		f, err := parser.ParseFile(fset, "", "package p\n"+text, 0)
		if err != nil && first[i] == token.FUNC {
			stmts = append(stmts, text) // a function literal
			continue
		} else if err != nil {
			return nil, err
		}
		for _, is := range f.Imports {
			path, _ := strconv.Unquote(is.Path.Value)
			name := filepath.Base(path)
			if is.Name != nil {
				name = is.Name.Name
			}
			p.imports = append(p.imports, dimport{name, path})
			top, _, _ := strings.Cut(path, "/")
			p.foreign = p.foreign || strings.Contains(top, ".")
		}
		if len(f.Imports) == 0 {
			p.decls = append(p.decls, declUnit{keys: declKeys(f.Decls[0]), text: text})
		}
	}
	p.stmts = strings.Join(stmts, "\n")
	f, err := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+p.stmts+"\n}", 0)
	if err != nil {
		return nil, err
	}
	for _, s := range f.Decls[0].(*ast.FuncDecl).Body.List {
		if s, ok := s.(*ast.AssignStmt); ok && s.Tok == token.DEFINE {
			for _, l := range s.Lhs {
				p.vars = append(p.vars, l.(*ast.Ident).Name)
			}
		}
		if s, ok := s.(*ast.DeclStmt); ok {
			for _, sp := range s.Decl.(*ast.GenDecl).Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					p.vars = append(p.vars, n.Name)
				}
			}
		}
	}
	return p, nil
}

func declKeys(d ast.Decl) []string {
	var keys []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			return []string{d.Name.Name}
		}
		t := d.Recv.List[0].Type
		if s, ok := t.(*ast.StarExpr); ok {
			t = s.X
		}
		if x, ok := t.(*ast.IndexExpr); ok {
			t = x.X
		} else if x, ok := t.(*ast.IndexListExpr); ok {
			t = x.X
		}
		return []string{fmt.Sprint(t) + "." + d.Name.Name}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				keys = append(keys, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					keys = append(keys, n.Name)
				}
			}
		}
	}
	return keys
}

// applyDecls returns state with units declared over it: each replaces the
// units that declare any of its names, where the first of them stood.
// changed tells whether an existing declaration was replaced by another.
func applyDecls(state, units []declUnit) (out []declUnit, changed bool) {
	out = slices.Clone(state)
	for _, u := range units {
		at := -1
		for i := 0; i < len(out); i++ {
			if !slices.ContainsFunc(out[i].keys, func(k string) bool { return slices.Contains(u.keys, k) }) {
				continue
			}
			changed = changed || out[i].text != u.text
			if at < 0 {
				at, out[i] = i, u
				continue
			}
			out = slices.Delete(out, i, i+1)
			i--
		}
		if at < 0 {
			out = append(out, u)
		}
	}
	return out, changed
}

// refProg is one reference program of a case.
type refProg struct {
	c        *dcase
	sections []int // the cells whose reference output it gives
	invalid  int   // for the check of an invalid cell: its index, else -1
	src      string
}

// refPrograms returns the programs of c: one per declaration epoch, and
// one per invalid cell to check.
func refPrograms(c *dcase) ([]*refProg, error) {
	var progs []*refProg
	var done []*cellParts // the valid cells so far
	var state []declUnit
	var epoch []int
	flush := func() {
		if len(epoch) > 0 {
			progs = append(progs, &refProg{c: c, sections: epoch, invalid: -1, src: genProgram(state, done)})
		}
		epoch = nil
	}
	for i, cl := range c.cells {
		p, err := parseCell(i, cl)
		if cl.kind == "invalid" {
			// One that does not parse, or that imports from outside the
			// standard library, is invalid without a check.
			if err == nil && !p.foreign {
				st, _ := applyDecls(state, p.decls)
				progs = append(progs, &refProg{c: c, invalid: i, src: genProgram(st, append(slices.Clip(done), p))})
			}
			continue
		}
		if err == nil && p.foreign {
			err = fmt.Errorf("imports from outside the standard library")
		}
		if err != nil {
			return nil, fmt.Errorf("cell %d (line %d): %v", i+1, cl.line, err)
		}
		st, changed := applyDecls(state, p.decls)
		if changed {
			flush()
		}
		state, done, epoch = st, append(done, p), append(epoch, i)
	}
	flush()
	return progs, nil
}

func genProgram(decls []declUnit, cells []*cellParts) string {
	var body strings.Builder
	for _, d := range decls {
		body.WriteString(d.text + "\n\n")
	}
	body.WriteString("func ppfRecover() {\n\tif r := recover(); r != nil {\n\t\tppfmt.Println(\"panic: \" + ppfmt.Sprint(r))\n\t}\n}\n\nfunc main() {\n")
	for _, p := range cells {
		fmt.Fprintf(&body, "ppfmt.Print(\"\\x00cell %d\\x00\\n\")\n{\n", p.index+1)
		if p.panics {
			body.WriteString("func() {\ndefer ppfRecover()\n")
		}
		body.WriteString(p.stmts + "\n")
		for _, v := range p.vars {
			if v != "_" {
				body.WriteString("_ = " + v + "\n")
			}
		}
		if p.panics {
			body.WriteString("}()\n")
		}
	}
	body.WriteString(strings.Repeat("}\n", len(cells)+1))

	// Imports whose package the program never names are left out.
	used := map[string]bool{}
	var s scanner.Scanner
	s.Init(token.NewFileSet().AddFile("", -1, body.Len()), []byte(body.String()), nil, 0)
	for prev := ""; ; {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		used[prev] = used[prev] || tok == token.PERIOD
		if prev = ""; tok == token.IDENT {
			prev = lit
		}
	}
	var src strings.Builder
	src.WriteString("package main\n\nimport (\n\tppfmt \"fmt\"\n")
	seen := map[dimport]bool{}
	for _, p := range cells {
		for _, im := range p.imports {
			if !seen[im] && (used[im.name] || im.name == "_" || im.name == ".") {
				fmt.Fprintf(&src, "\t%s %q\n", im.name, im.path)
			}
			seen[im] = true
		}
	}
	return src.String() + ")\n\n" + body.String()
}

// buildReferences builds and runs the programs of cases, returning each
// case's expected output by cell, and the corpus bugs found.
func buildReferences(t *testing.T, cases []*dcase) (map[string][]string, []string) {
	var progs []*refProg
	var bugs []string
	var mu sync.Mutex // guards bugs and want
	want := map[string][]string{}
	bug := func(c *dcase, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		bugs = append(bugs, fmt.Sprintf("%s (%s:%d): ", c.name, c.file, c.line)+fmt.Sprintf(format, args...))
		want[c.name] = nil
	}
	for _, c := range cases {
		ps, err := refPrograms(c)
		if err != nil {
			bug(c, "%v", err)
		}
		progs = append(progs, ps...)
	}
	dir := t.TempDir()
	write := func(path, text string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "go.mod"), "module difftest\n\ngo 1.26\n")
	for i, p := range progs {
		write(filepath.Join(dir, fmt.Sprintf("p%04d", i), "main.go"), p.src)
	}
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin+string(filepath.Separator), "./...")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off")
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	t.Logf("built %d reference programs of %d cases in %v", len(progs), len(cases), time.Since(start).Round(time.Millisecond))
	failed, cur := map[string]string{}, "" // program -> compiler errors
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if name, ok := strings.CutPrefix(l, "# difftest/"); ok {
			cur = strings.TrimSpace(name)
		} else if cur != "" {
			failed[cur] += l
		}
	}

	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, p := range progs {
		name := fmt.Sprintf("p%04d", i)
		errs, bad := failed[name]
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil && !bad {
			errs, bad = string(out), true
		}
		switch {
		case p.invalid >= 0 && !bad:
			bug(p.c, "cell %d (line %d) is marked invalid but compiles", p.invalid+1, p.c.cells[p.invalid].line)
		case p.invalid < 0 && bad:
			bug(p.c, "the reference program does not build:\n%s\n%s", errs, numbered(p.src))
		}
		if bad || p.invalid >= 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), refDeadline)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, filepath.Join(bin, name))
			cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, &stderr
			if err := cmd.Run(); err != nil {
				bug(p.c, "the reference program failed: %v\n%s%s\n%s", err, stdout.String(), stderr.String(), numbered(p.src))
				return
			}
			secs := map[int]string{}
			ms := markerRe.FindAllStringSubmatchIndex(stdout.String(), -1)
			for i, m := range ms {
				end := stdout.Len()
				if i+1 < len(ms) {
					end = ms[i+1][0]
				}
				n, _ := strconv.Atoi(stdout.String()[m[2]:m[3]])
				secs[n-1] = stdout.String()[m[1]:end]
			}
			for _, k := range p.sections {
				if p.c.cells[k].kind == "panics" && !strings.Contains(secs[k], "panic: ") {
					bug(p.c, "cell %d is marked panics but does not panic", k+1)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			w, ok := want[p.c.name]
			if !ok {
				w = make([]string, len(p.c.cells))
				want[p.c.name] = w
			}
			for _, k := range p.sections {
				if w != nil {
					w[k] = secs[k]
				}
			}
		}()
	}
	wg.Wait()
	return want, bugs
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
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
