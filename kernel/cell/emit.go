package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// lineWriter writes source while keeping track of its line, so that
// pieces can be placed at the lines of the cell they came from.
type lineWriter struct {
	b    strings.Builder
	line int
}

func (w *lineWriter) write(s string) {
	w.b.WriteString(s)
	w.line += strings.Count(s, "\n")
}

// at pads with newlines up to line l (1-based), or starts a new line when
// already past it.
func (w *lineWriter) at(l int) {
	if w.line+1 > l {
		w.write("\n")
		return
	}
	for w.line+1 < l {
		w.write("\n")
	}
}

// emit writes the interpreter's source for the cell, from the checked
// passes: declarations from pass 2 (the session as it will be), the
// statements from pass 1.
func (pl *planner) emit() (*plan, *Error) {
	s, next := pl.s, pl.next
	for n := range pl.changed {
		if !strings.Contains(n, ".") {
			next.version[n] = s.version[n] + 1
		}
	}
	for _, h := range pl.hoist {
		next.version[h.name] = h.version
	}
	yaegiNames := importPaths(next.imports, next.hidden)
	// Packages the source names that the session has not imported (the
	// type of a result, say): import path -> kernel-made name.
	spelled := map[string]string{}
	spellIn := func(pkg *types.Package) *typeSpeller {
		return &typeSpeller{main: pkg, names: yaegiNames, hidden: spelled, rename: next.current}
	}
	p := &plan{next: next}
	for n := range pl.dropped {
		p.notices = append(p.notices, fmt.Sprintf("%s is gone: its type was redefined with another shape; run the cell that makes it again", n))
	}
	sort.Strings(p.notices)

	// Declarations, from pass 2.
	r2 := pl.p2
	ed2 := &editor{text: r2.texts[0]}
	rw2 := &rewriter{r: r2, ed: ed2, captured: map[types.Object]bool{}, spell: func(t types.Type) string { return spellIn(r2.pkg).spell(t) }}
	rw2.cellOf = func(file string) int {
		if i := declIndex(file); i >= 0 && i < len(next.decls) {
			return next.decls[i].origin.cell
		}
		return 0
	}
	rw2.name = func(o types.Object) (string, bool) {
		if o.Parent() == r2.pkg.Scope() {
			return next.current(o.Name()), true
		}
		return "", false
	}
	nodes := map[*decl]ast.Node{}
	for _, d := range r2.files[0].Decls {
		pos := d.Pos()
		if gd, ok := d.(*ast.GenDecl); ok {
			if gd.Tok == token.IMPORT {
				continue
			}
			if gd.Tok == token.TYPE && len(gd.Specs) > 0 {
				pos = gd.Specs[0].Pos()
			}
		}
		if i := declIndex(r2.fset.Position(pos).Filename); i >= 0 && i < len(next.decls) {
			nodes[next.decls[i]] = d
		}
	}
	var ours, others []*decl
	for _, d := range next.decls {
		switch {
		case d.isVar:
		case d.origin.cell == pl.cell && pl.isNew(d):
			ours = append(ours, d)
		case slices.Contains(pl.reemit, d):
			others = append(others, d)
		}
	}
	for _, d := range append(slices.Clone(ours), others...) {
		rw2.walk(nodes[d])
	}
	var w lineWriter
	render := func(d *decl) string {
		n := nodes[d]
		if gd, ok := n.(*ast.GenDecl); ok && d.isType {
			ts := gd.Specs[0]
			return "type " + ed2.render(r2.offset(ts.Pos()), r2.offset(ts.End()))
		}
		return ed2.render(r2.offset(n.Pos()), r2.offset(n.End()))
	}
	sort.SliceStable(ours, func(i, j int) bool { return ours[i].origin.line < ours[j].origin.line })
	for _, d := range ours {
		w.at(d.origin.line)
		w.write(render(d))
	}
	for _, d := range others {
		w.at(w.line + 2)
		w.write(render(d))
	}
	// Variables with a new interpreter name.
	for _, d := range next.decls {
		if !d.isVar || !pl.changed[d.names[0]] {
			continue
		}
		obj := r2.pkg.Scope().Lookup(d.names[0])
		sp := spellIn(r2.pkg)
		w.at(w.line + 2)
		w.write("var " + next.current(d.names[0]) + " " + sp.spell(obj.Type()))
	}
	// Old variables nobody can reach any more.
	for _, d := range s.decls {
		if d.isVar && pl.changed[d.names[0]] && !s.captured[d.names[0]] {
			p.freed = append(p.freed, s.current(d.names[0]))
		}
	}
	if len(rw2.refusals) > 0 {
		return nil, refuse("Unsupported", rw2.refusals...)
	}

	// Statements, from pass 1.
	body, results, err := pl.emitBody(spellIn)
	if err != nil {
		return nil, err
	}
	for i, t := range results {
		w.at(w.line + 2)
		name := "_ppfResult" + strconv.Itoa(i)
		w.write("var " + name + " " + t)
		p.results = append(p.results, name)
	}
	// Imports the interpreter has not seen, on the first line: written
	// last, once every type has been spelled.
	for path, name := range spelled {
		next.hidden[name] = path
	}
	var imports []string
	for _, m := range []map[string]string{next.imports, next.hidden} {
		for n, path := range m {
			if s.yaegiImports[n] != path {
				imports = append(imports, "import "+n+" "+strconv.Quote(path)+"; ")
			}
		}
	}
	sort.Strings(imports)
	p.decls = strings.Join(imports, "") + w.b.String()
	p.body = body
	p.printLike = pl.printLike
	p.resultMethods = pl.resultMethods
	return p, nil
}

// isNew reports whether d is a declaration this cell makes or changes
// (not one it repeats word for word).
func (pl *planner) isNew(d *decl) bool {
	for _, nd := range pl.newDecls {
		if &nd.decl == d {
			return true
		}
	}
	return false
}

// emitBody writes the cell's statements as the body of cellFunc.
func (pl *planner) emitBody(spellIn func(*types.Package) *typeSpeller) (string, []string, *Error) {
	r1, next := pl.p1, pl.next
	text := r1.texts[2]
	ed := &editor{text: text}
	sp := spellIn(r1.pkg)
	rw := &rewriter{r: r1, ed: ed, captured: map[types.Object]bool{}, spell: sp.spell, inCell: true}
	var usedDropped []string
	rw.cellOf = func(file string) int {
		if file == cellFile {
			return pl.cell
		}
		return 0
	}
	rw.name = func(o types.Object) (string, bool) {
		if h := pl.hoistBy[o]; h != nil {
			return internal(h.name, h.version), true
		}
		if o.Parent() == r1.pkg.Scope() {
			if pl.dropped[o.Name()] {
				usedDropped = append(usedDropped, o.Name())
			}
			return next.current(o.Name()), true
		}
		return "", false
	}
	fn := pl.cellBody()
	top := fn.List
	for _, st := range top {
		pl.hoistStmt(st, rw)
	}
	rw.walk(fn) // first: its line markers go before the result assignment
	// The last statement, when an expression with values, is shown.
	var results []string
	if n := len(top); n > 0 {
		if es, ok := top[n-1].(*ast.ExprStmt); ok {
			results = pl.resultTypes(es.X, sp)
			if len(results) > 0 {
				names := make([]string, len(results))
				for i := range names {
					names[i] = "_ppfResult" + strconv.Itoa(i)
				}
				ed.insert(r1.offset(es.X.Pos()), strings.Join(names, ", ")+" = ")
			}
		}
	}
	if len(usedDropped) > 0 {
		slices.Sort(usedDropped)
		return "", nil, refuse("CompileError", "this cell uses "+strings.Join(slices.Compact(usedDropped), ", ")+", which its redefinition of a type drops: define them again after the type")
	}
	if len(rw.refusals) > 0 {
		return "", nil, refuse("Unsupported", rw.refusals...)
	}
	if sp.invalid != "" {
		return "", nil, refuse("Unsupported", "the cell's result has a type that mentions "+sp.invalid+", which a cell cannot name: assign it to a variable of an interface type, or print it")
	}
	for o := range rw.captured {
		if h := pl.hoistBy[o]; h != nil {
			next.captured[h.name] = true
		} else if o.Parent() == r1.pkg.Scope() {
			next.captured[o.Name()] = true
		}
	}
	// Variables of a redefined type, converted to its new version.
	var prologue []string
	for name, typ := range pl.carry {
		base := strings.TrimPrefix(typ, "*")
		conv := next.current(base)
		if base != typ {
			conv = "(*" + conv + ")"
		}
		prologue = append(prologue, fmt.Sprintf("%s = %s(%s);", next.current(name), conv, pl.s.current(name)))
	}
	sort.Strings(prologue)
	start := strings.Index(text, "func "+cellFunc+"() {") + len("func "+cellFunc+"() {")
	start = strings.Index(text[start:], "\n") + start + 1 // after the //line comment
	start = strings.Index(text[start:], "\n") + start + 1
	end := strings.LastIndex(text, "\n}")
	return "func " + cellFunc + "() {" + strings.Join(prologue, " ") + ed.render(start, end) + "\n}", results, nil
}

// hoistStmt turns a top-level := or var into an assignment to the
// session's variables.
func (pl *planner) hoistStmt(st ast.Stmt, rw *rewriter) {
	r := pl.p1
	switch st := st.(type) {
	case *ast.AssignStmt:
		if st.Tok != token.DEFINE {
			return
		}
		if len(st.Lhs) > 1 && len(st.Rhs) == 1 {
			// yaegi assigns "a, ok = <-ch" (and other two-value forms) to
			// existing variables wrongly; through new ones it is right.
			var temps, dst []string
			for _, l := range st.Lhs {
				t := rw.temp("T")
				temps = append(temps, t)
				name := "_"
				if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
					if h := pl.hoistBy[r.info.Defs[id]]; h != nil {
						name = internal(h.name, h.version)
					} else if h := pl.hoistBy[r.info.Uses[id]]; h != nil {
						name = internal(h.name, h.version)
					}
				}
				dst = append(dst, name)
			}
			rw.ed.replace(r.offset(st.Pos()), r.offset(st.TokPos)+2, "{ "+strings.Join(temps, ", ")+" :=")
			var src []string
			for i, d := range dst {
				if d != "_" {
					src = append(src, d+" = "+temps[i]+";")
				} else {
					src = append(src, "_ = "+temps[i]+";")
				}
			}
			rw.ed.insert(r.offset(st.End()), "; "+strings.Join(src, " ")+" }")
			return
		}
		rw.ed.replace(r.offset(st.TokPos), r.offset(st.TokPos)+2, "= ")
	case *ast.DeclStmt:
		gd, ok := st.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			return
		}
		rw.ed.replace(r.offset(gd.TokPos), r.offset(gd.TokPos)+3, "   ")
		if gd.Lparen.IsValid() {
			rw.ed.replace(r.offset(gd.Lparen), r.offset(gd.Lparen)+1, " ")
			rw.ed.replace(r.offset(gd.Rparen), r.offset(gd.Rparen)+1, " ")
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			var names []string
			var resets []string
			for _, id := range vs.Names {
				name := "_"
				if h := pl.hoistBy[r.info.Defs[id]]; h != nil {
					name = internal(h.name, h.version)
					if h.reset {
						resets = append(resets, name+" = *new("+rw.spell(h.obj.Type())+");")
					}
				}
				names = append(names, name)
			}
			if len(vs.Values) > 0 {
				rw.ed.replace(r.offset(vs.Pos()), r.offset(vs.Values[0].Pos()), strings.Join(names, ", ")+" = ")
			} else {
				rw.ed.replace(r.offset(vs.Pos()), r.offset(vs.End()), strings.Join(resets, " "))
			}
		}
	}
}

// resultTypes returns the types, as interpreter source, of the values of
// a cell's last expression; none for a call without results.
func (pl *planner) resultTypes(x ast.Expr, sp *typeSpeller) []string {
	tv := pl.p1.info.Types[x]
	if tv.Type == nil || tv.IsVoid() || tv.IsType() || tv.IsBuiltin() {
		return nil
	}
	var ts []types.Type
	if tup, ok := tv.Type.(*types.Tuple); ok {
		for i := range tup.Len() {
			ts = append(ts, tup.At(i).Type())
		}
	} else {
		ts = []types.Type{tv.Type}
	}
	pl.resultMethods = nil
	if len(ts) == 1 && !types.IsInterface(types.Default(ts[0])) {
		// Only the rich forms the type has are asked for.
		pl.resultMethods = map[string]bool{}
		t := types.Default(ts[0])
		if _, ok := t.Underlying().(*types.Pointer); !ok {
			t = types.NewPointer(t) // the variable is addressable
		}
		ms := types.NewMethodSet(t)
		for i := range ms.Len() {
			pl.resultMethods[ms.At(i).Obj().Name()] = true
		}
	}
	var out []string
	// (n int, err error) is what Print and Write return: not worth
	// showing after every print, unless err is not nil.
	pl.printLike = len(ts) == 2 && types.Identical(ts[0], types.Typ[types.Int]) && types.Identical(ts[1], types.Universe.Lookup("error").Type()) && pl.isPrintCall(x)
	for _, t := range ts {
		if b, ok := t.(*types.Basic); ok && b.Kind() == types.UntypedNil {
			return nil
		}
		out = append(out, sp.spell(types.Default(t)))
	}
	return out
}

// isPrintCall reports whether x calls a function of fmt or log, or a
// method named Write or WriteString.
func (pl *planner) isPrintCall(x ast.Expr) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	f, ok := pl.p1.info.Uses[sel.Sel].(*types.Func)
	if !ok {
		return false
	}
	if f.Type().(*types.Signature).Recv() != nil {
		return strings.HasPrefix(f.Name(), "Write")
	}
	return f.Pkg() != nil && (f.Pkg().Path() == "fmt" || f.Pkg().Path() == "log")
}
