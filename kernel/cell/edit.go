package cell

import (
	"sort"
	"strings"
)

// An editor collects replacements in a text and renders ranges of it with
// them applied. A replacement's text may be computed when rendered, from
// the rendering of ranges inside it (an operand written twice). The
// rewrites never add or remove newlines within a cell's code, so the
// interpreter's line numbers stay the cell's.
type editor struct {
	text   string
	edits  []edit
	sorted bool
}

type edit struct {
	from, to int
	// text computes the replacement; inner renders a range inside it,
	// with the other edits there applied.
	text func(inner func(from, to int) string) string
	seq  int
}

// replace registers a replacement and returns its number.
func (ed *editor) replace(from, to int, s string) int {
	return ed.replaceFunc(from, to, func(func(int, int) string) string { return s })
}

func (ed *editor) replaceFunc(from, to int, f func(inner func(from, to int) string) string) int {
	ed.edits = append(ed.edits, edit{from, to, f, len(ed.edits)})
	ed.sorted = false
	return len(ed.edits) - 1
}

func (ed *editor) insert(at int, s string) { ed.replace(at, at, s) }

// render returns text[from:to] with the edits that lie inside it applied.
// An edit that overlaps one applied before it is dropped: an outer
// replacement renders what it keeps of its inside itself.
func (ed *editor) render(from, to int) string { return ed.renderSkip(from, to, -1) }

func (ed *editor) renderSkip(from, to, skip int) string {
	if !ed.sorted {
		sort.SliceStable(ed.edits, func(i, j int) bool {
			a, b := ed.edits[i], ed.edits[j]
			if a.from != b.from {
				return a.from < b.from
			}
			if (a.from == a.to) != (b.from == b.to) {
				return a.from == a.to // insertions first
			}
			if a.to != b.to {
				return a.to > b.to // the outer replacement first
			}
			return a.seq < b.seq
		})
		ed.sorted = true
	}
	var b strings.Builder
	cur := from
	for _, e := range ed.edits {
		// An inner rendering leaves insertions at its ends to the outer one.
		if e.seq == skip || e.from < cur || e.to > to || (skip >= 0 && e.from == e.to && (e.from == from || e.from == to)) {
			continue
		}
		b.WriteString(ed.text[cur:e.from])
		seq := e.seq
		b.WriteString(e.text(func(f, t int) string { return ed.renderSkip(f, t, seq) }))
		cur = e.to
	}
	b.WriteString(ed.text[cur:to])
	return b.String()
}
