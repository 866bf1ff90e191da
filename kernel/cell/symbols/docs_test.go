package symbols

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The embedded docs must be those the packages' sources give now: a
// changed doc comment without `go generate ./kernel/cell/symbols` fails
// here (and in test.sh's diff of the generated files).
func TestDocsCurrent(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to find the packages' sources")
	}
	var paths []string
	for key := range Symbols {
		if i := strings.LastIndex(key, "/"); i > 0 {
			paths = append(paths, key[:i])
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	if got := slices.Sorted(maps.Keys(Docs)); !slices.Equal(got, paths) {
		t.Fatalf("Docs has packages %v, Symbols %v: run go generate ./kernel/cell/symbols", got, paths)
	}
	out, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, "\t")
		want, err := PackageDocs(dir, path)
		if err != nil {
			t.Fatal(err)
		}
		got := Docs[path]
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s: the docs of %q are stale: run go generate ./kernel/cell/symbols\nembedded:\n%s\nsources:\n%s", path, k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %q is documented but no longer in the sources: run go generate ./kernel/cell/symbols", path, k)
			}
		}
	}
}

const fixture = `// Package demo shows every kind of entry.
package demo

// Limit bounds [NewBox] and [Box.Grow].
const Limit = 3

// Kinds of things.
const (
	KindA Kind = iota // the first
	KindB
	hiddenKind
)

// Kind is a kind.
type Kind int

// Box holds things.
type Box struct {
	// Size is how many.
	Size int
	Name string // what it is called
	Inner
	secret bool
}

// Inner is embedded.
type Inner struct{ Depth int }

// Grow makes b bigger.
func (b *Box) Grow(n int) error { return nil }

// NewBox returns an empty box.
func NewBox() *Box { return nil }

// Sizer measures.
type Sizer interface {
	// Size says how big.
	Size() int
}

// Default is the box used when none is given.
var Default = NewBox()
`

func TestPackageDocs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo.go"), []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := PackageDocs(dir, "example.com/demo")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"":      "package demo // import \"example.com/demo\"\n\nPackage demo shows every kind of entry.",
		"Limit": "const Limit = 3\n\nLimit bounds NewBox and Box.Grow.",
		"KindA": "const KindA Kind = iota\n\nthe first\n\nKinds of things.",
		"KindB": "const KindB Kind\n\nKinds of things.",
		"Kind":  "type Kind int\n\nKind is a kind.",
		"Box": "type Box struct {\n\t// Size is how many.\n\tSize int\n\tName string // what it is called\n\tInner\n\t// contains filtered or unexported fields\n}\n\n" +
			"Box holds things.\n\nfunc NewBox() *Box\nfunc (b *Box) Grow(n int) error",
		"Box.Size":    "Size int\n\nSize is how many.",
		"Box.Name":    "Name string\n\nwhat it is called",
		"Box.Inner":   "Inner (embedded)",
		"Box.Grow":    "func (b *Box) Grow(n int) error\n\nGrow makes b bigger.",
		"NewBox":      "func NewBox() *Box\n\nNewBox returns an empty box.",
		"Inner":       "type Inner struct{ Depth int }\n\nInner is embedded.",
		"Inner.Depth": "Depth int",
		"Sizer":       "type Sizer interface {\n\t// Size says how big.\n\tSize() int\n}\n\nSizer measures.",
		"Sizer.Size":  "func (Sizer) Size() int\n\nSize says how big.",
		"Default":     "var Default = NewBox()\n\nDefault is the box used when none is given.",
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if docs[k] != want[k] {
			t.Errorf("%q:\n%s\nwant:\n%s", k, docs[k], want[k])
		}
	}
	for k := range docs {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected entry %q:\n%s", k, docs[k])
		}
	}
}
