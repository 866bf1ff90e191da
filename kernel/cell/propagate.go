package cell

import (
	"fmt"
	"go/ast"
	"go/types"
	"maps"
	"slices"
	"strings"
)

// importPaths inverts import names: path -> a name it is imported under.
func importPaths(named ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range named {
		for n, p := range m {
			if _, ok := out[p]; !ok || n < out[p] {
				out[p] = n
			}
		}
	}
	return out
}

// hoistVars spells the types of the cell's top-level variables.
func (pl *planner) hoistVars() *Error {
	declared := map[string]*newDecl{}
	for _, nd := range pl.newDecls {
		for _, n := range nd.names {
			declared[n] = nd
		}
	}
	pl.next = &session{
		imports:      maps.Clone(pl.s.imports),
		hidden:       maps.Clone(pl.s.hidden),
		version:      maps.Clone(pl.s.version),
		captured:     maps.Clone(pl.s.captured),
		yaegiImports: pl.s.yaegiImports, // updated when applied
	}
	maps.Copy(pl.next.imports, pl.cellImports)
	hiddenByPath := importPaths(pl.next.hidden)
	sp := &typeSpeller{main: pl.p1.pkg, names: importPaths(pl.next.imports), hidden: hiddenByPath, rename: func(s string) string { return s }}
	for _, h := range pl.hoist {
		line := pl.p1.fset.Position(h.obj.Pos()).Line
		if reservedName(h.name) {
			return refuse("CompileError", fmt.Sprintf("line %d: the name %s is reserved for the kernel: choose another", line, h.name))
		}
		if nd := declared[h.name]; nd != nil {
			return refuse("CompileError", fmt.Sprintf("line %d: %s is declared twice in this cell: as a variable and as %s", line, h.name, nd.what()))
		}
		sp.invalid = ""
		h.typ = sp.spell(h.obj.Type())
		if sp.invalid != "" {
			return refuse("Unsupported", fmt.Sprintf("line %d: %s has type %s, which mentions %s: a cell cannot name that type, so it cannot keep the variable; use it inside one cell, or convert it to an interface it implements (var %s any = ...)", line, h.name, h.obj.Type(), sp.invalid, h.name))
		}
	}
	for path, name := range hiddenByPath {
		pl.next.hidden[name] = path
	}
	return nil
}

// propagate works out which names change identity in the interpreter:
// redefined declarations, the declarations that refer to them (compiled
// again), and variables of a redefined type (converted to the new type
// when its underlying type is unchanged, dropped otherwise).
func (pl *planner) propagate() *Error {
	s, next := pl.s, pl.next
	pl.changed = map[string]bool{}
	pl.carry = map[string]string{}
	pl.dropped = map[string]bool{}
	same := map[*newDecl]*decl{} // a declaration run again as it was
	for _, nd := range pl.newDecls {
		old := s.lookup(nd.names[0])
		if old != nil && !old.isVar && old.src == nd.src && slices.Equal(old.names, nd.names) {
			same[nd] = old
			continue
		}
		for _, n := range nd.names {
			if nd.recv != "" {
				if s.lookup(n) != nil && !pl.redefined[nd.recv] {
					// yaegi keeps a method's first body: a redefined
					// method needs a new version of its type.
					pl.changed[nd.recv] = true
				}
				continue
			}
			pl.changed[n] = true
		}
	}
	// The next session's declarations: replacements where the old ones
	// were, new ones after.
	placed := map[*newDecl]bool{}
	byName := map[string]*newDecl{}
	for _, nd := range pl.newDecls {
		for _, n := range nd.names {
			byName[n] = nd
		}
	}
	hoistByName := map[string]*hoisted{}
	for _, h := range pl.hoist {
		hoistByName[h.name] = h
	}
	varDecl := func(h *hoisted) *decl {
		p := pl.p1.fset.Position(h.obj.Pos())
		return &decl{names: []string{h.name}, src: "var " + h.name + " " + h.typ, origin: position{pl.cell, p.Line, p.Column}, isVar: true}
	}
	for _, d := range s.decls {
		if nd := byName[d.names[0]]; nd != nil {
			if !placed[nd] {
				placed[nd] = true
				if old := same[nd]; old != nil {
					next.decls = append(next.decls, old)
				} else {
					next.decls = append(next.decls, &nd.decl)
				}
			}
			continue
		}
		if h := hoistByName[d.names[0]]; h != nil {
			continue // appended below, in the cell's order
		}
		next.decls = append(next.decls, d)
	}
	for _, nd := range pl.newDecls {
		if !placed[nd] {
			next.decls = append(next.decls, &nd.decl)
		}
	}
	// Top-level variables: the interpreter's variable is reused when the
	// type is the same and no closure holds the old one.
	for _, h := range pl.hoist {
		old := s.lookup(h.name)
		v := s.version[h.name]
		if old != nil && old.isVar && old.src == "var "+h.name+" "+h.typ && !s.captured[h.name] && !pl.mentionsChanged(h.obj.Type()) {
			h.version, h.reset = v, true
		} else {
			h.version = v + 1
			pl.changed[h.name] = true
		}
		next.decls = append(next.decls, varDecl(h))
	}
	// Declarations that refer to a changed name change too.
	refs := pl.sessionRefs()
	for grew := true; grew; {
		grew = false
		for _, d := range slices.Clone(next.decls) {
			if d.origin.cell == pl.cell || pl.reemitted(d) || (d.isVar && pl.changed[d.names[0]]) {
				continue
			}
			// A type whose method this cell redefines is compiled again
			// itself, as is anything that refers to a changed name.
			if !touches(refs[d], pl.changed) && (d.isVar || d.recv != "" || !pl.changed[d.names[0]]) {
				continue
			}
			grew = true
			if d.isVar {
				pl.varOfChangedType(d)
				continue
			}
			pl.reemit = append(pl.reemit, d)
			if d.recv != "" {
				// yaegi keeps a method's first body: its type gets a new
				// version, with all its methods.
				pl.changed[d.recv] = true
			}
			if d.recv == "" {
				for _, n := range d.names {
					pl.changed[n] = true
				}
			}
		}
	}
	return nil
}

func (pl *planner) reemitted(d *decl) bool { return slices.Contains(pl.reemit, d) }

func touches(refs, changed map[string]bool) bool {
	for n := range refs {
		if changed[n] {
			return true
		}
	}
	return false
}

// mentionsChanged reports whether t involves a cell type that changes.
func (pl *planner) mentionsChanged(t types.Type) bool {
	found := false
	sp := &typeSpeller{main: pl.p1.pkg, names: map[string]string{}, hidden: map[string]string{}, rename: func(n string) string {
		if pl.changed[n] {
			found = true
		}
		return n
	}}
	sp.spell(t)
	return found
}

// varOfChangedType keeps a variable whose type T (or *T) changed version
// but not shape, by conversion; any other is dropped.
func (pl *planner) varOfChangedType(d *decl) {
	name := d.names[0]
	typ := strings.TrimPrefix(d.src, "var "+name+" ")
	base := strings.TrimPrefix(typ, "*")
	old := pl.s.lookup(base)
	obj := pl.p1.pkg.Scope().Lookup(base)
	if old != nil && old.isType && obj != nil && isIdentifier(base) {
		if tn, ok := obj.(*types.TypeName); ok && pl.underlying(tn.Type()) == old.underlying && old.underlying != "" {
			pl.changed[name] = true
			pl.carry[name] = typ
			return
		}
	}
	pl.changed[name] = true
	pl.dropped[name] = true
	pl.next.decls = slices.DeleteFunc(pl.next.decls, func(x *decl) bool { return x == d })
}

func isIdentifier(s string) bool {
	for _, r := range s {
		if !isIdent(r) {
			return false
		}
	}
	return s != ""
}

// underlying spells a type's underlying type with the cell's names.
func (pl *planner) underlying(t types.Type) string {
	sp := &typeSpeller{main: pl.p1.pkg, names: importPaths(pl.next.imports), hidden: importPaths(pl.next.hidden), rename: func(s string) string { return s }}
	return sp.spell(t.Underlying())
}

// sessionRefs returns, for each declaration of the next session made
// before this cell, the package names it refers to (from pass 1, where
// it was checked as it stands).
func (pl *planner) sessionRefs() map[*decl]map[string]bool {
	out := map[*decl]map[string]bool{}
	live := pl.liveDecls()
	r := pl.p1
	for _, f := range r.files[:1] {
		for _, d := range f.Decls {
			i := declIndex(r.fset.Position(d.Pos()).Filename)
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == 0 {
				continue
			}
			if i < 0 {
				// A type declaration's keyword sits before its //line.
				if gd, ok := d.(*ast.GenDecl); ok && len(gd.Specs) > 0 {
					i = declIndex(r.fset.Position(gd.Specs[0].Pos()).Filename)
				}
			}
			if i >= 0 && i < len(live) {
				out[live[i]] = r.refs(d)
			}
		}
	}
	// Declarations run again unchanged by this cell are in its file.
	for _, nd := range pl.newDecls {
		if old := pl.s.lookup(nd.names[0]); old != nil && old.src == nd.src {
			out[old] = r.refs(nd.node)
		}
	}
	return out
}

// pass2 checks the session as it will be after the cell.
func (pl *planner) pass2() *Error {
	imports := append(importLinesExcept(pl.next.imports, nil), importLinesExcept(pl.next.hidden, nil)...)
	decls := pl.next.decls
	if len(pl.newDecls) == 0 && len(pl.hoist) == 0 && len(pl.changed) == 0 {
		// The session does not change: pass 1 has checked it already.
		decls = nil
	}
	r, err := typeCheck(pl.e.importer, []string{sessionText(imports, decls)})
	if err != nil {
		return compileError(err)
	}
	var errs []types.Error
	for _, e := range r.errs {
		if !unusedImport(e.Msg) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		why := ""
		if len(pl.dropped) > 0 {
			var names []string
			for n := range pl.dropped {
				names = append(names, n)
			}
			slices.Sort(names)
			why = "variables " + strings.Join(names, ", ") + " are dropped (their type was redefined); "
		}
		return pl.typeErrors(errs, pl.next.decls, why)
	}
	pl.p2 = r
	// Types remember their underlying type, for the next redefinition.
	for _, d := range pl.next.decls {
		if d.isType {
			if tn, ok := r.pkg.Scope().Lookup(d.names[0]).(*types.TypeName); ok {
				d.underlying = pl.underlyingIn(r.pkg, tn.Type())
			}
		}
	}
	return nil
}

func (pl *planner) underlyingIn(pkg *types.Package, t types.Type) string {
	sp := &typeSpeller{main: pkg, names: importPaths(pl.next.imports), hidden: importPaths(pl.next.hidden), rename: func(s string) string { return s }}
	return sp.spell(t.Underlying())
}
