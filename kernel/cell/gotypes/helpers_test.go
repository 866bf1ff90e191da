package gotypes

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/kernel/cell/symbols"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/generic"
)

// kernelSymbols is what the kernel gives yaegi: the standard library and
// the project's packages.
func kernelSymbols() map[string]map[string]reflect.Value {
	all := make(map[string]map[string]reflect.Value, len(stdlib.Symbols)+len(symbols.Symbols))
	for k, v := range stdlib.Symbols {
		all[k] = v
	}
	for k, v := range symbols.Symbols {
		all[k] = v
	}
	return all
}

// genericSources keys yaegi's generic package sources by import path
// (their package name: cmp, maps, slices).
func genericSources(tb testing.TB) map[string][]string {
	src := make(map[string][]string)
	for _, s := range generic.Sources {
		f, err := parser.ParseFile(token.NewFileSet(), "", s, parser.PackageClauseOnly)
		if err != nil {
			tb.Fatal(err)
		}
		src[f.Name.Name] = append(src[f.Name.Name], s)
	}
	return src
}

func newKernelImporter(tb testing.TB) *Importer {
	return NewImporter(kernelSymbols(), genericSources(tb))
}

// check type-checks one file the way the kernel will, returning every
// error's message (without position) and the info.
func check(tb testing.TB, im types.Importer, src string) ([]string, *types.Info, *types.Package) {
	tb.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell.go", src, parser.SkipObjectResolution)
	if err != nil {
		tb.Fatalf("parse: %v\n%s", err, src)
	}
	var errs []string
	conf := types.Config{
		Importer:  im,
		GoVersion: "go1.26",
		Error:     func(err error) { errs = append(errs, err.(types.Error).Msg) },
	}
	info := &types.Info{
		Types: make(map[ast.Expr]types.TypeAndValue),
		Defs:  make(map[*ast.Ident]types.Object),
		Uses:  make(map[*ast.Ident]types.Object),
	}
	pkg, _ := conf.Check("cell", fset, []*ast.File{f}, info)
	return errs, info, pkg
}

// mustCheck fails the test unless src type-checks.
func mustCheck(t *testing.T, im types.Importer, src string) (*types.Info, *types.Package) {
	t.Helper()
	errs, info, pkg := check(t, im, src)
	if len(errs) > 0 {
		t.Fatalf("type errors:\n%s\nin:\n%s", strings.Join(errs, "\n"), src)
	}
	return info, pkg
}

// sourceImporter imports from GOROOT's sources, for comparing messages
// with what go/types says with the real packages; nil with -short or
// without GOROOT sources.
func sourceImporter(tb testing.TB) types.Importer {
	if testing.Short() {
		return nil
	}
	im := importer.ForCompiler(token.NewFileSet(), "source", nil)
	if _, err := im.Import("fmt"); err != nil {
		tb.Logf("not comparing with GOROOT sources: %v", err)
		return nil
	}
	return im
}
