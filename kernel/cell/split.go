package cell

import (
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// A chunk is a run of a cell's top-level items that yaegi compiles in one
// go: declarations (import, const, var, type, func) or statements. yaegi
// takes either a file of declarations or a list of statements, never both,
// so a cell that declares a function and then calls it is split in two.
type chunk struct {
	src     string // the text, preceded by newlines so that line numbers match the cell's
	decl    bool
	imports bool // the chunk holds only imports
	// expr is set on the cell's last chunk when its last item is an
	// expression: that item's text, shown as the cell's result.
	expr string
}

// item is one top-level declaration or statement of a cell.
type item struct {
	start, end int // byte offsets in the cell
	decl       bool
	imp        bool
}

// errIncomplete is returned by split for a cell that ends inside a
// bracket, a block or a string.
type errIncomplete struct{ msg string }

func (e errIncomplete) Error() string { return e.msg }

// split cuts a cell into chunks. Syntax errors that the scanner sees are
// returned (as a scanner.ErrorList); the compiler reports the rest.
func split(code string) ([]chunk, error) {
	items, err := scanItems(code)
	if err != nil {
		return nil, err
	}
	var chunks []chunk
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].decl == items[i].decl && items[j].imp == items[i].imp {
			j++
		}
		first, last := items[i], items[j-1]
		c := chunk{decl: first.decl, imports: first.imp}
		if !first.decl && j == len(items) {
			// The cell ends with statements: if the last is an expression,
			// it becomes its own chunk, shown as the result.
			text := code[last.start:last.end]
			if _, err := parser.ParseExpr(text); err == nil {
				if j-1 > i {
					chunks = append(chunks, chunk{src: pad(code, first.start, items[j-2].end)})
				}
				chunks = append(chunks, chunk{src: pad(code, last.start, last.end), expr: text})
				break
			}
		}
		c.src = pad(code, first.start, last.end)
		chunks = append(chunks, c)
		i = j
	}
	return chunks, nil
}

// pad returns code[start:end] preceded by as many newlines as lines before
// start, so that the compiler's line numbers are the cell's.
func pad(code string, start, end int) string {
	return strings.Repeat("\n", strings.Count(code[:start], "\n")) + code[start:end]
}

// scanItems finds the top-level items of a cell: it scans tokens, tracking
// bracket depth, and cuts at each semicolon (written or implied by a line
// end) at depth zero.
func scanItems(code string) ([]item, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)

	var items []item
	var stack []token.Token // open brackets
	var toks []token.Token  // tokens of the current item
	cur := item{start: -1}
	for {
		pos, tok, lit := s.Scan()
		off := file.Offset(pos)
		if tok == token.EOF || (tok == token.SEMICOLON && len(stack) == 0) {
			if cur.start >= 0 {
				cur.decl, cur.imp = classify(toks)
				items = append(items, cur)
			}
			cur, toks = item{start: -1}, toks[:0]
			if tok == token.EOF {
				break
			}
			continue
		}
		if cur.start < 0 {
			cur.start = off
		}
		toks = append(toks, tok)
		cur.end = off + len(lit)
		if lit == "" {
			cur.end = off + len(tok.String())
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			stack = append(stack, tok)
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if len(stack) == 0 {
				errs.Add(fset.Position(pos), "unexpected "+tok.String())
				continue
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			if strings.Contains(e.Msg, "not terminated") {
				return nil, errIncomplete{e.Error()}
			}
		}
		return nil, errs
	}
	if len(stack) > 0 {
		return nil, errIncomplete{"the cell ends inside an unclosed " + stack[len(stack)-1].String()}
	}
	return items, nil
}

// classify tells declarations from statements by their first tokens. A
// func is a declaration when a name follows it (func f) or when, after a
// parenthesized receiver, a name and a parenthesis follow (func (t T) M(); a
// function literal's result type is never followed by a parenthesis).
func classify(toks []token.Token) (decl, imp bool) {
	if len(toks) == 0 {
		return false, false
	}
	switch toks[0] {
	case token.IMPORT:
		return true, true
	case token.TYPE, token.CONST, token.VAR:
		return true, false
	case token.FUNC:
		if len(toks) > 1 && toks[1] == token.IDENT {
			return true, false
		}
		if len(toks) > 1 && toks[1] == token.LPAREN {
			depth := 0
			for i := 1; i < len(toks); i++ {
				switch toks[i] {
				case token.LPAREN, token.LBRACK, token.LBRACE:
					depth++
				case token.RPAREN, token.RBRACK, token.RBRACE:
					depth--
				}
				if depth == 0 {
					return i+2 < len(toks) && toks[i+1] == token.IDENT && (toks[i+2] == token.LPAREN || toks[i+2] == token.LBRACK), false
				}
			}
		}
	}
	return false, false
}
