package stdlibsrc

import (
	"go/importer"
	"go/token"
	"go/types"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/yaegi/stdlib"
)

// TestFiles checks that Files lists every embedded file, in an order that
// compiles a package before its importers.
func TestFiles(t *testing.T) {
	embedded, err := fs.Glob(files, "*.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	seen := map[string]bool{}
	for _, f := range Files() {
		listed = append(listed, f.Name)
		if f.Path == "iter" && (seen["slices"] || seen["maps"]) {
			t.Errorf("%s comes after a package that imports iter", f.Name)
		}
		seen[f.Path] = true
	}
	slices.Sort(listed)
	if !slices.Equal(listed, embedded) {
		t.Errorf("Files lists %v, the embedded files are %v", listed, embedded)
	}
}

// TestSymbolsComplete checks that Symbols and yaegi's tables together have
// every exported non-generic symbol of the packages they know (but cmp,
// maps and slices, which the kernel has from source): if a new Go release
// adds some, run go generate.
func TestSymbolsComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the standard library from source")
	}
	imp := importer.ForCompiler(token.NewFileSet(), "source", nil)
	if _, err := imp.Import("errors"); err != nil {
		t.Skipf("no standard library source: %v", err)
	}
	ours := Symbols()
	tables := map[string]map[string]reflect.Value{}
	for key := range ours {
		tables[key] = nil // a package yaegi's tables lack
	}
	for key, table := range stdlib.Symbols {
		tables[key] = table
	}
	for key, table := range tables {
		i := strings.LastIndexByte(key, '/')
		if i < 0 || skipped[key[:i]] || key[:i] == CompiledPath {
			continue
		}
		pkg, err := imp.Import(key[:i])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range pkg.Scope().Names() {
			obj := pkg.Scope().Lookup(name)
			if !obj.Exported() || generic(obj) {
				continue
			}
			if _, ok := table[name]; !ok {
				if _, ok := ours[key][name]; !ok {
					t.Errorf("%s.%s: in neither yaegi's tables nor Symbols", key[:i], name)
				}
			}
		}
	}
}

// skipped are the packages the kernel has from source, and yaegi's own.
var skipped = map[string]bool{"cmp": true, "maps": true, "slices": true, "github.com/traefik/yaegi/stdlib": true}

func generic(obj types.Object) bool {
	switch o := obj.(type) {
	case *types.Func:
		return o.Type().(*types.Signature).TypeParams() != nil
	case *types.TypeName:
		n, ok := o.Type().(*types.Named)
		return o.IsAlias() || ok && n.TypeParams() != nil
	}
	return false
}
