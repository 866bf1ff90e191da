package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// hoisted is a variable a cell defines at its top level.
type hoisted struct {
	name    string
	obj     types.Object // in pass 1
	version int
	reset   bool   // the interpreter's variable is reused: zero it where the cell declares it without a value
	typ     string // spelled with the cell's names, for the session
}

// planner holds the state of planning one cell.
type planner struct {
	e    *Engine
	s    *session
	pc   *parsedCell
	cell int

	cellImports map[string]string
	newDecls    []*newDecl
	redefined   map[string]bool // session names the cell's declarations replace

	p1      *checkResult
	hoist   []*hoisted
	hoistBy map[types.Object]*hoisted

	next    *session
	changed map[string]bool // names whose interpreter identity changes
	carry   map[string]string
	dropped map[string]bool
	reemit  []*decl
	p2      *checkResult

	printLike     bool
	resultMethods map[string]bool
}

// makePlan checks a cell against the session and plans how the
// interpreter runs it. Nothing changes until the plan is applied.
func (e *Engine) makePlan(code string) (*plan, *Error) {
	pc, err := cut(code)
	if err != nil {
		return nil, compileError(atEnd(err, code))
	}
	pl := &planner{e: e, s: e.sess, pc: pc, cell: e.running}
	if err := pl.imports(); err != nil {
		return nil, err
	}
	if err := pl.pass1(); err != nil {
		return nil, err
	}
	if err := pl.hoistVars(); err != nil {
		return nil, err
	}
	if err := pl.propagate(); err != nil {
		return nil, err
	}
	if err := pl.pass2(); err != nil {
		return nil, err
	}
	return pl.emit()
}

// imports reads the cell's imports and checks their names.
func (pl *planner) imports() *Error {
	specs, fset, err := parseImports(pl.pc.declText)
	if err != nil {
		return compileError(err)
	}
	posLine := func(_ string, spec *ast.ImportSpec) int { return fset.Position(spec.Pos()).Line }
	pl.pc.imports = specs
	pl.cellImports = map[string]string{}
	for _, spec := range specs {
		path, _ := strconv.Unquote(spec.Path.Value)
		name := pl.e.pkgName(path)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		switch {
		case name == ".":
			return refuse("Unsupported", fmt.Sprintf("line %d: dot imports are not supported: import %q and write %s.Name", posLine(pl.pc.code, spec), path, pl.e.pkgName(path)))
		case name == "_":
			continue // the kernel's packages are all linked in already
		case reservedName(name):
			return refuse("CompileError", fmt.Sprintf("line %d: the name %s is reserved for the kernel: choose another", posLine(pl.pc.code, spec), name))
		}
		// A package the kernel lacks is reported here, at the cell's line,
		// rather than by every file the checker sees it in.
		if _, err := pl.e.importer.Import(path); err != nil {
			p := fset.Position(spec.Path.Pos())
			return refuse("CompileError", fmt.Sprintf("line %d:%d: could not import %s (%v)", p.Line, p.Column, path, err))
		}
		pl.cellImports[name] = path
	}
	return nil
}

func (pl *planner) pass1() *Error {
	// The cell's declarations, by name.
	declFile := "package main" + lineDirective(cellFile, 1, 1) + pl.pc.declText
	r, err := typeCheck(nil, []string{declFile})
	if err != nil {
		return compileError(atEnd(err, pl.pc.code))
	}
	nds, err := cellDecls(r.files[0], declFile, r.fset, pl.cell)
	if err != nil {
		return refuse("CompileError", err.Error())
	}
	pl.newDecls = nds
	pl.redefined = map[string]bool{}
	for _, nd := range nds {
		for _, n := range nd.names {
			pl.redefined[n] = true
		}
	}
	// A const group is replaced whole or not at all.
	for _, d := range pl.s.decls {
		some, all := false, true
		for _, n := range d.names {
			if pl.redefined[n] {
				some = true
			} else {
				all = false
			}
		}
		if some && !all && !d.isVar {
			return refuse("CompileError", fmt.Sprintf("this cell redefines part of %s: redefine all of its names in one declaration", d.what()))
		}
	}
	imports := importLinesExcept(pl.s.imports, pl.cellImports)
	imports = append(imports, importLinesExcept(pl.s.hidden, nil)...)
	var cellImports []string
	for n, p := range pl.cellImports {
		cellImports = append(cellImports, n+" "+strconv.Quote(p))
	}
	sessionDecls := pl.liveDecls()
	merged := append(slices.Clone(imports), cellImports...)
	slices.Sort(merged)
	texts := []string{
		sessionText(merged, sessionDecls),
		header(imports) + lineDirective(cellFile, 1, 1) + pl.pc.declText,
		header(append(slices.Clone(imports), cellImports...)) + "func " + cellFunc + "() {" + lineDirective(cellFile, 1, 1) + pl.pc.stmtText + "\n}\n",
	}
	r, err = typeCheck(pl.e.importer, texts)
	if err != nil {
		return compileError(atEnd(err, pl.pc.code))
	}
	pl.p1 = r
	pl.collectHoisted()
	// A function of the cell may use a variable the cell defines at top
	// level, as it would one of an earlier cell: check again with those
	// variables declared in the session.
	if extra := pl.sameCellVars(imports); extra != "" {
		if r, err = typeCheck(pl.e.importer, append(texts, extra)); err != nil {
			return compileError(atEnd(err, pl.pc.code))
		}
		pl.p1 = r
		pl.collectHoisted()
	}
	var shown token.Pos // the last expression, shown as the result, is used
	if list := pl.cellBody().List; len(list) > 0 {
		if es, ok := list[len(list)-1].(*ast.ExprStmt); ok {
			shown = es.X.Pos()
		}
	}
	var errs []types.Error
	for _, e := range r.errs {
		if unusedImport(e.Msg) || (e.Pos == shown && strings.HasSuffix(e.Msg, " is not used")) {
			continue
		}
		if name, ok := strings.CutPrefix(e.Msg, "declared and not used: "); ok && pl.isHoistedAt(name, e.Pos) {
			continue
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return pl.typeErrors(errs, sessionDecls, "")
	}
	return nil
}

// collectHoisted lists the variables the cell defines at top level: they
// become the session's, and Go's "declared and not used" does not apply.
func (pl *planner) collectHoisted() {
	pl.hoist, pl.hoistBy = nil, map[types.Object]*hoisted{}
	for _, st := range pl.cellBody().List {
		for _, id := range definedAtTop(st) {
			if obj := pl.p1.info.Defs[id]; obj != nil {
				h := &hoisted{name: id.Name, obj: obj}
				pl.hoist = append(pl.hoist, h)
				pl.hoistBy[obj] = h
			}
		}
	}
}

// sameCellVars returns a file declaring, as package variables, the
// cell's top-level variables that its own declarations use but cannot
// see, or "" when there are none.
func (pl *planner) sameCellVars(imports []string) string {
	undefined := map[string]bool{}
	for _, e := range pl.p1.errs {
		if name, ok := strings.CutPrefix(e.Msg, "undefined: "); ok && pl.p1.fileIndex(e.Pos) == 1 {
			undefined[name] = true
		}
	}
	hidden := importPaths(pl.s.hidden)
	sp := &typeSpeller{main: pl.p1.pkg, names: importPaths(pl.s.imports, pl.cellImports), hidden: hidden, rename: func(s string) string { return s }}
	var vars []string
	for _, h := range pl.hoist {
		if undefined[h.name] {
			vars = append(vars, "var "+h.name+" "+sp.spell(h.obj.Type()))
			delete(undefined, h.name)
		}
	}
	if len(vars) == 0 || sp.invalid != "" {
		return ""
	}
	var lines []string
	for n, p := range pl.cellImports {
		lines = append(lines, n+" "+strconv.Quote(p))
	}
	lines = append(lines, imports...)
	for path, name := range hidden {
		if _, ok := pl.s.hidden[name]; !ok {
			lines = append(lines, name+" "+strconv.Quote(path))
		}
	}
	return header(lines) + strings.Join(vars, "\n") + "\n"
}

// isHoistedAt reports whether the variable name defined at pos is one of
// the cell's top-level variables.
func (pl *planner) isHoistedAt(name string, pos token.Pos) bool {
	for _, h := range pl.hoist {
		if h.name == name && h.obj.Pos() == pos {
			return true
		}
	}
	return false
}

// cellBody is the body of the function the cell's statements are in.
func (pl *planner) cellBody() *ast.BlockStmt {
	f := pl.p1.files[2]
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == cellFunc {
			return fd.Body
		}
	}
	panic("cell function missing")
}

// definedAtTop returns the names a top-level statement may define: the
// left of := and the names of var.
func definedAtTop(st ast.Stmt) []*ast.Ident {
	var out []*ast.Ident
	switch st := st.(type) {
	case *ast.AssignStmt:
		if st.Tok == token.DEFINE {
			for _, l := range st.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					out = append(out, id)
				}
			}
		}
	case *ast.DeclStmt:
		if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if id.Name != "_" {
						out = append(out, id)
					}
				}
			}
		}
	}
	return out
}

// liveDecls are the session's declarations the cell does not replace.
func (pl *planner) liveDecls() []*decl {
	var out []*decl
	for _, d := range pl.s.decls {
		if !pl.redefined[d.names[0]] {
			out = append(out, d)
		}
	}
	return out
}

// typeErrors formats go/types errors against the files of r.
func (pl *planner) typeErrors(errs []types.Error, sessionDecls []*decl, why string) *Error {
	sortErrors(errs)
	var lines []string
	for i, e := range errs {
		if i == 10 {
			lines = append(lines, "(and more)")
			break
		}
		pos := e.Fset.Position(e.Pos)
		lines = append(lines, describe(pos, func(file string) string {
			if i := declIndex(file); i >= 0 && i < len(sessionDecls) {
				return why + "in " + sessionDecls[i].what()
			}
			return "in the session's imports" // a header the kernel wrote
		})+": "+e.Msg)
	}
	return refuse("CompileError", lines...)
}
