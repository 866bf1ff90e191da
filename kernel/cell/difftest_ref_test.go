package cell

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The reference side of TestDifferential: each case's cells joined into
// Go programs, built with the Go toolchain in one go build.

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
