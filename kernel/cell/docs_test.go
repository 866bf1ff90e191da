package cell

import (
	"slices"
	"strings"
	"testing"
)

// helpCells leave variables of compiled types (a value, a nil pointer, an
// interface) and of a type declared in a cell.
func helpCells(t *testing.T) *Engine {
	t.Helper()
	e := newEngine(t)
	for _, code := range []string{
		`import "io"
import "strings"
import "github.com/ppfkit/ppf/native"
import "github.com/ppfkit/ppf/ppfnb"`,
		`lm := &ppfnb.LM{Name: "tiny", Model: native.RandomModel(native.Config{Dim: 8, HiddenDim: 16, NumLayers: 2, NumHeads: 2, VocabSize: 32, SeqLen: 16}, 1)}`,
		`var none *ppfnb.LM`,
		`rd := io.Reader(strings.NewReader("abc"))`,
		`type point struct{ X int; label string }`,
		`pt := point{X: 3, label: "a"}`,
		`counter := 41`,
		`type shape struct{ Corners int }`,
		`type shape struct{ Sides int }`,
	} {
		if out, err := run(t, e, code); err != nil {
			t.Fatalf("%s: %v (%s)", code, err, out)
		}
	}
	return e
}

func TestCompleteMembers(t *testing.T) {
	e := helpCells(t)
	for _, c := range []struct {
		code  string
		want  []string
		start int // in code points
	}{
		// Selector chains: fields (promoted ones too) and methods, by
		// value, through a nil pointer, after a call and an index.
		{"lm.Model.Num", []string{"NumHeads", "NumKVHeads", "NumLayers", "NumParams"}, 9},
		{"none.Model.Val", []string{"Validate"}, 11},
		{"lm.Model.Layers[0].Hid", []string{"HiddenDim"}, 19},
		{`ppfnb.Load("x", "").Mo`, []string{"Model"}, 20},
		{`strings.NewReader("abc").Len`, []string{"Len"}, 25},
		{"x := lm.Na", []string{"Name"}, 8},
		// An interface variable offers its interface's methods only.
		{"rd.Re", []string{"Read"}, 3},
		// A type declared in a cell, with an unexported field.
		{"pt.la", []string{"label"}, 3},
		// Keys of struct literals: the fields not given yet.
		{"ppfnb.GenerateOptions{Te", []string{"Temperature"}, 22},
		{"ppfnb.GenerateOptions{Steps: 3, ", []string{"Prompt", "Seed", "Temperature", "TopP"}, 32},
		{"opt := ppfnb.GenerateOptions{\n\tPrompt: \"a{\",\n\tS", []string{"Seed", "Steps"}, 46},
		{"&ppfnb.GenerateOptions{St", []string{"Steps"}, 23},
		{"[]ppfnb.GenerateOptions{{To", []string{"TopP"}, 25},
		{`m := map[string]*ppfnb.GenerateOptions{"a": {Se`, []string{"Seed"}, 45},
		{"point{la", []string{"label"}, 6},
		{"shape{", []string{"Sides"}, 6}, // its latest definition
		// A value position inside a literal, and a block that is not a
		// literal, complete top-level names.
		{"ppfnb.GenerateOptions{Steps: cou", []string{"counter"}, 29},
		{"if true {\n\tstr", []string{"strconv", "string", "strings", "struct"}, 11},
		{"ppfnb.GenerateOptions{Prompt: strings.Repeat(\"a\", cou", []string{"counter"}, 50}, // an argument
		{"strings.Builder{", nil, 16}, // no exported fields
		{"nothing.", nil, 8},
	} {
		end := len([]rune(c.code))
		m, s, en := e.Complete(c.code, end)
		if !slices.Equal(m, c.want) || s != c.start || en != end {
			t.Errorf("Complete(%q) = %q, %d, %d; want %q, %d, %d", c.code, m, s, en, c.want, c.start, end)
		}
	}
}

func TestInspectDocs(t *testing.T) {
	e := helpCells(t)
	for _, c := range []struct {
		code   string
		cursor int // -1: the end
		want   string
	}{
		// The standard library, from GOROOT.
		{"strings.ToUpper", -1, "strings.ToUpper func(string) string\n\nfunc ToUpper(s string) string\n\n" +
			"ToUpper returns s with all Unicode letters mapped to their upper case."},
		{`strings.NewReader("x").Len`, -1, "strings.NewReader(\"x\").Len func() int\n\nfunc (r *Reader) Len() int\n\n" +
			"Len returns the number of bytes of the unread portion of the string."},
		// The project's, embedded: a function, a constant, a method
		// through a nil pointer, fields (one promoted from native.Config).
		{"ppfnb.Load(", -1, "ppfnb.Load func(string, string) (*ppfnb.LM, error)\n\n" +
			"func Load(nameOrPath, tokenizerPath string) (*LM, error)\n\n" + loadDoc},
		{"ppfnb.DefaultSeqLen", -1, "ppfnb.DefaultSeqLen untyped int constant = 256\n\nconst DefaultSeqLen = 256\n\n" +
			"DefaultSeqLen is the window of every perplexity measured here (as\ndocs/pruning.md's tables).\n\n" +
			"The text slices. PPF's steps each read their own part of one text, so that\nnothing is tuned on what it is judged on."},
		{"none.Model.NumParams", -1, "none.Model.NumParams func() int\n\nfunc (m *Model) NumParams() int\n\n" +
			"NumParams counts the model's weights, with a shared classifier counted once."},
		{"lm.Name", 4, "lm.Name string = tiny\n\nwhat the user asked for: a model name or a path"},
		{"lm.Model.Dim + 1", 10, "lm.Model.Dim int = 8\n\nwidth of the residual stream"},
		{"ppfnb.GenerateOptions{Steps: 3}", 25, "ppfnb.GenerateOptions.Steps int\n\n" +
			"forward passes, prompt included, as in llama2.c; 0: the whole context"},
		// Cell variables have no docs; keywords and builtins.
		{"counter", -1, "counter int = 41"},
		{"pt.label", -1, "pt.label string = a"},
		{"for", -1, "for is a keyword"},
		{"nil", -1, "nil is predeclared\n\nvar nil Type\n\nType must be a pointer, channel, func, interface, map, or slice type\n\n" +
			"nil is a predeclared identifier representing the zero value for a pointer,\nchannel, func, interface, map, or slice type."},
	} {
		cursor := c.cursor
		if cursor < 0 {
			cursor = len([]rune(c.code))
		}
		if got, found := e.Inspect(c.code, cursor); !found || got != c.want {
			t.Errorf("Inspect(%q, %d) = %v\n%s\nwant:\n%s", c.code, cursor, found, got, c.want)
		}
	}
	// A package: its package clause and doc comment.
	got, _ := e.Inspect("ppfnb", 5)
	if want := "package ppfnb // import \"github.com/ppfkit/ppf/ppfnb\"\n\nPackage ppfnb holds what a notebook cell"; !strings.HasPrefix(got, want) {
		t.Errorf("Inspect(ppfnb) = %q, want it to start with %q", got, want)
	}
	// An interface's method, documented on the interface.
	got, _ = e.Inspect("rd.Read", 7)
	if want := "rd.Read func([]uint8) (int, error)\n\nfunc (Reader) Read(p []byte) (n int, err error)\n\ntype Reader interface {"; !strings.HasPrefix(got, want) {
		t.Errorf("Inspect(rd.Read) = %q, want it to start with %q", got, want)
	}
	// "?name" cells page the same text.
	if out, _ := run(t, e, "?lm.Model.Dim"); out != "page:lm.Model.Dim int = 8\n\nwidth of the residual stream" {
		t.Errorf("?lm.Model.Dim: %q", out)
	}
}

const loadDoc = `Load opens a model by name (a folder of native.ModelsDir(), such as
"stories260K") or path, with the tokenizer at tokenizerPath, or the one found
beside the model when tokenizerPath is "".`

// Without GOROOT the standard library's help says why it has no docs; the
// project's, compiled in, are still there.
func TestInspectWithoutGOROOT(t *testing.T) {
	e := helpCells(t)
	saved := goDocs
	goDocs = &docLibrary{findRoot: func() string { return "" }}
	defer func() { goDocs = saved }()
	if got, _ := e.Inspect("strings.ToUpper", 15); got != "strings.ToUpper func(string) string\n\n"+noGOROOT {
		t.Errorf("without GOROOT: %q", got)
	}
	if got, _ := e.Inspect("none.Model.NumParams", 20); !strings.HasSuffix(got, "NumParams counts the model's weights, with a shared classifier counted once.") {
		t.Errorf("embedded docs without GOROOT: %q", got)
	}
}

func TestFindGOROOT(t *testing.T) {
	if isGOROOT("") || isGOROOT(t.TempDir()) {
		t.Error("isGOROOT accepts a folder without Go's sources")
	}
	t.Setenv("GOROOT", t.TempDir()) // not one: the next candidates are tried
	if dir := findGOROOT(); !isGOROOT(dir) {
		t.Errorf("findGOROOT() = %q, not a Go installation's root", dir)
	}
}

// A variable redefined by a later cell is the interpreter's x_ppfv2: help
// and completion see the current one under the name the cells use, and
// not one a failed cell left in the interpreter.
func TestCellGlobals(t *testing.T) {
	e := newEngine(t)
	for _, c := range []string{`x := 1`, `x := "two"`, `y := 3`, `y := 4
z := undefinedName`} {
		run(t, e, c)
	}
	got := e.cellGlobals()
	if len(got) != 2 || got["x"].Interface() != "two" || got["y"].Interface() != 3 {
		t.Errorf("cellGlobals = %v", got)
	}
}
