package cell

import (
	"errors"
	"go/scanner"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Completion and help work from what the kernel can see without running a
// cell's code: the compiled packages' symbol tables, the cells' global
// variables (their values, through reflect) and, for the few things
// reflect cannot show (the fields of a struct type declared in a cell),
// the interpreter evaluating a side-effect-free composite literal. The
// text before the cursor is tokenized with go/scanner, so that strings and
// comments do not confuse it, and read backwards: a selector chain before
// a dot (lm.Model.Con, ppfnb.Load(x).Mo, xs[0].Na), or the key position of
// a composite literal (ppfnb.GenerateOptions{Ste, []T{{Na). Calls and
// index expressions are never evaluated: their result's type comes from
// the function's or container's type.

// IsComplete tells a console whether code is ready to run: "complete",
// "incomplete" (it ends inside a bracket, block or string; indent is the
// indentation for the next line) or "invalid".
func IsComplete(code string) (status, indent string) {
	_, err := scanItems(code)
	var inc errIncomplete
	switch {
	case err == nil:
		return "complete", ""
	case errors.As(err, &inc):
		return "incomplete", "\t"
	default:
		return "invalid", ""
	}
}

// runeOffset converts a cursor position in code points (as Jupyter counts
// them) to a byte offset in code.
func runeOffset(code string, cursor int) int {
	off := 0
	for i := 0; i < cursor && off < len(code); i++ {
		_, n := utf8.DecodeRuneInString(code[off:])
		off += n
	}
	return off
}

// runeCount is the inverse of runeOffset.
func runeCount(code string, off int) int { return utf8.RuneCountInString(code[:off]) }

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// identStart returns where the identifier that ends at byte offset off
// starts (off when there is none).
func identStart(code string, off int) int {
	for off > 0 {
		r, n := utf8.DecodeLastRuneInString(code[:off])
		if !isIdent(r) {
			break
		}
		off -= n
	}
	return off
}

// Complete returns the names that can replace code[start:end] (cursor and
// positions in code points).
func (e *Engine) Complete(code string, cursor int) (matches []string, start, end int) {
	defer func() {
		// reflect panics on values it cannot handle: a Tab key must not
		// end the kernel, and with it the notebook's variables.
		if recover() != nil {
			matches, start, end = nil, cursor, cursor
		}
	}()
	off := runeOffset(code, cursor)
	s := identStart(code, off)
	name := code[s:off]
	for n := range e.candidates(code[:s]) {
		if strings.HasPrefix(n, name) {
			matches = append(matches, n)
		}
	}
	sort.Strings(matches)
	return matches, runeCount(code, s), cursor
}

// candidates returns the names that can follow prefix: a struct's field
// names in a composite literal's key position, the members of what a
// selector chain denotes after a dot, else the top-level names.
func (e *Engine) candidates(prefix string) map[string]candidate {
	toks := lexPrefix(prefix)
	if fields, ok := e.literalKeys(toks); ok {
		return fields
	}
	if n := len(toks); n > 0 && toks[n-1].t == token.PERIOD {
		steps, ok := chainBefore(toks[:n-1])
		if !ok {
			return nil
		}
		c, ok := e.resolve(steps)
		if !ok {
			return nil
		}
		return e.membersOf(c)
	}
	return e.topLevel()
}

// topLevel returns the cell globals, the packages, Go's keywords and the
// predeclared identifiers.
func (e *Engine) topLevel() map[string]candidate {
	out := map[string]candidate{}
	for _, kw := range keywords() {
		out[kw] = candidate{kind: "keyword"}
	}
	for _, n := range types.Universe.Names() {
		out[n] = candidate{kind: "predeclared", docPath: "builtin", docKey: n}
	}
	keys := make([]string, 0, len(e.symbols))
	for key := range e.symbols {
		keys = append(keys, key)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys))) // the first in order wins a shared name (crypto/rand, math/rand)
	for _, key := range keys {
		if i := strings.LastIndex(key, "/"); i > 0 {
			out[key[i+1:]] = candidate{pkg: key[:i], pkgIdent: key[i+1:], docPath: key[:i]}
		}
	}
	for n, v := range e.cellGlobals() {
		out[n] = valueCandidate(v)
	}
	for name, path := range e.importedNames() {
		out[name] = candidate{pkg: path, pkgIdent: e.pkgName(path), docPath: path}
	}
	return out
}

// cellGlobals returns the session's variables and functions, by the
// names cells use, with the values the interpreter holds under its own
// names for them (see session).
func (e *Engine) cellGlobals() map[string]reflect.Value {
	s := e.committedSession()
	globals := e.in.Globals()
	out := map[string]reflect.Value{}
	for _, d := range s.decls {
		for _, n := range d.names {
			if v, ok := globals[s.current(n)]; ok && d.recv == "" {
				out[n] = v
			}
		}
	}
	return out
}

// importedNames returns the names the cells imported packages under.
func (e *Engine) importedNames() map[string]string { return e.committedSession().imports }

// packages returns the compiled packages a cell can import, by import path.
func (e *Engine) packages() map[string]map[string]reflect.Value {
	out := map[string]map[string]reflect.Value{}
	for key, syms := range e.symbols {
		if i := strings.LastIndex(key, "/"); i > 0 {
			out[key[:i]] = syms
		}
	}
	return out
}

func pkgName(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

func keywords() []string {
	var kws []string
	for t := token.BREAK; t <= token.VAR; t++ {
		if token.IsKeyword(t.String()) {
			kws = append(kws, t.String())
		}
	}
	return kws
}

// A lexTok is one token of the text before the cursor.
type lexTok struct {
	t   token.Token
	lit string
}

// lexPrefix tokenizes src, ignoring errors (it is usually cut short in the
// middle of a statement), without the semicolon the scanner adds at its
// end.
func lexPrefix(src string) []lexTok {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), func(token.Position, string) {}, 0)
	var out []lexTok
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		out = append(out, lexTok{t, lit})
	}
	if n := len(out); n > 0 && out[n-1].t == token.SEMICOLON && out[n-1].lit == "\n" {
		out = out[:n-1]
	}
	return out
}

// A chainStep is one link of a selector chain: a name, a call or an index.
type chainStep struct {
	call, index bool
	name        string
}

// chainBefore reads the selector chain that toks ends with, backwards:
// names joined by dots, each optionally called or indexed.
func chainBefore(toks []lexTok) ([]chainStep, bool) {
	var rev []chainStep
	i := len(toks) - 1
loop:
	for i >= 0 {
		switch toks[i].t {
		case token.RPAREN, token.RBRACK:
			open := matchOpen(toks, i)
			if open < 0 {
				return nil, false
			}
			rev = append(rev, chainStep{call: toks[i].t == token.RPAREN, index: toks[i].t == token.RBRACK})
			i = open - 1
		case token.IDENT:
			rev = append(rev, chainStep{name: toks[i].lit})
			if i == 0 || toks[i-1].t != token.PERIOD {
				break loop
			}
			i -= 2
		default:
			return nil, false
		}
	}
	if len(rev) == 0 || rev[len(rev)-1].name == "" {
		return nil, false
	}
	steps := make([]chainStep, len(rev))
	for j, s := range rev {
		steps[len(rev)-1-j] = s
	}
	return steps, true
}

// matchOpen returns the index of the bracket that the closing one at
// close matches, or -1.
func matchOpen(toks []lexTok, close int) int {
	depth := 0
	for i := close; i >= 0; i-- {
		switch toks[i].t {
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth++
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// enclosingBrace returns the index of the innermost bracket still open at
// the end of toks when it is a '{', or -1.
func enclosingBrace(toks []lexTok) int {
	depth := 0
	for i := len(toks) - 1; i >= 0; i-- {
		switch toks[i].t {
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth++
		case token.LPAREN, token.LBRACK, token.LBRACE:
			if depth == 0 {
				if toks[i].t == token.LBRACE {
					return i
				}
				return -1
			}
			depth--
		}
	}
	return -1
}

// resolve finds what a selector chain denotes, starting from a package
// name a cell imported, a cell global or any bundled package's name.
func (e *Engine) resolve(steps []chainStep) (candidate, bool) {
	c, ok := e.topLevel()[steps[0].name]
	if !ok || c.kind != "" {
		return candidate{}, false
	}
	for _, s := range steps[1:] {
		switch {
		case s.name != "":
			if c, ok = e.membersOf(c)[s.name]; !ok {
				return candidate{}, false
			}
		case s.call:
			if c.isType { // a conversion
				c = candidate{t: c.t}
				continue
			}
			if c.t == nil || c.t.Kind() != reflect.Func {
				return candidate{}, false
			}
			ft := c.t
			if ft.NumOut() != 1 && (ft.NumOut() != 2 || ft.Out(1) != reflect.TypeFor[error]()) {
				return candidate{}, false
			}
			c = candidate{t: ft.Out(0)}
		case s.index:
			t := c.t
			if t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Array {
				t = t.Elem()
			}
			if t == nil || c.isType {
				return candidate{}, false
			}
			switch t.Kind() {
			case reflect.Slice, reflect.Array, reflect.Map:
				c = candidate{t: t.Elem()}
			case reflect.String:
				c = candidate{t: reflect.TypeFor[byte]()}
			default:
				return candidate{}, false
			}
		}
	}
	return c, true
}

// literalKeys returns, when toks end at the key position of a struct
// literal (just after its '{' or a ','), the struct's fields that no key
// names yet.
func (e *Engine) literalKeys(toks []lexTok) (map[string]candidate, bool) {
	n := len(toks)
	if n == 0 || (toks[n-1].t != token.LBRACE && toks[n-1].t != token.COMMA) {
		return nil, false
	}
	open := enclosingBrace(toks)
	if open < 0 {
		return nil, false
	}
	t := e.literalType(toks, open)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, false
	}
	fields := structFields(t, reflect.Value{})
	depth := 0
	for i := open + 1; i < n; i++ {
		switch toks[i].t {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		case token.IDENT:
			if depth == 0 && i+1 < n && toks[i+1].t == token.COLON {
				delete(fields, toks[i].lit)
			}
		}
	}
	return fields, true
}

// literalType returns the type of the composite literal whose '{' is at
// toks[open]: a type name (pkg.T, or T declared in a cell) under any
// number of *, [] and map[K] prefixes, or, for an element whose type is
// elided ([]T{{...}}), the element type of the enclosing literal's.
func (e *Engine) literalType(toks []lexTok, open int) reflect.Type {
	i := open - 1
	if i < 0 {
		return nil
	}
	switch toks[i].t {
	case token.LBRACE, token.COMMA, token.COLON:
		outer := enclosingBrace(toks[:i+1])
		if outer < 0 {
			return nil
		}
		t := e.literalType(toks, outer)
		if t == nil {
			return nil
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return t.Elem()
		}
		return nil
	case token.IDENT:
	default:
		return nil
	}
	name, qual := toks[i].lit, ""
	if i >= 2 && toks[i-1].t == token.PERIOD && toks[i-2].t == token.IDENT {
		qual = toks[i-2].lit
		i -= 2
	}
	t := e.typeNamed(qual, name)
	for i--; t != nil && i >= 0; i-- {
		switch toks[i].t {
		case token.MUL:
			t = reflect.PointerTo(t)
		case token.RBRACK:
			j := matchOpen(toks, i)
			if j < 0 {
				return nil
			}
			if j > 0 && toks[j-1].t == token.MAP {
				j--
			}
			t, i = reflect.SliceOf(t), j // only the element type matters
		default:
			return t
		}
	}
	return t
}

// typeNamed returns the type that qual.name (or name, when qual is "")
// names, or nil.
func (e *Engine) typeNamed(qual, name string) reflect.Type {
	if qual != "" {
		c, ok := e.resolve([]chainStep{{name: qual}, {name: name}})
		if !ok || !c.isType {
			return nil
		}
		return c.t
	}
	if c, ok := e.topLevel()[name]; ok && c.isType {
		return c.t
	}
	return e.cellType(name)
}

// cellType asks the interpreter for a type declared in a cell, which no
// symbol table holds, by evaluating its zero composite literal (which runs
// no code of the cell's), under the interpreter's current name for it.
func (e *Engine) cellType(name string) reflect.Type {
	s := e.committedSession()
	if d := s.lookup(name); d == nil || !d.isType {
		return nil
	}
	return e.zeroLiteralType(s.current(name))
}

func (e *Engine) zeroLiteralType(name string) (t reflect.Type) {
	defer func() {
		if recover() != nil { // yaegi panics on some code it rejects
			t = nil
		}
	}()
	prog, err := e.in.Compile(name + "{}")
	if err != nil {
		return nil
	}
	v, err := e.in.Execute(prog)
	if err != nil || !v.IsValid() {
		return nil
	}
	return v.Type()
}
