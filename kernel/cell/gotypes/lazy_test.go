package gotypes

import (
	"go/types"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestLazy: importing a package builds it and the types it needs, not the
// packages those types live in; importing one of those later completes
// the very package object (and type objects) made on demand.
func TestLazy(t *testing.T) {
	im := newKernelImporter(t)
	fmtPkg, err := im.Import("fmt")
	if err != nil {
		t.Fatal(err)
	}
	if im.pkgs["net/http"] != nil || im.pkgs["os"] != nil {
		t.Error("importing fmt built net/http or os")
	}
	ioOnDemand := im.pkgs["io"]
	if ioOnDemand == nil || ioOnDemand.Complete() || ioOnDemand.Scope().Len() != 0 {
		t.Fatalf("io after importing fmt: %v (want made on demand, empty and incomplete)", ioOnDemand)
	}
	n := len(im.types)

	ioPkg, err := im.Import("io")
	if err != nil {
		t.Fatal(err)
	}
	if ioPkg != ioOnDemand || !ioPkg.Complete() || ioPkg.Scope().Lookup("Copy") == nil {
		t.Fatalf("io imported: %p (on demand %p), complete %v", ioPkg, ioOnDemand, ioPkg.Complete())
	}
	// fmt.Fprintf's first parameter is io.Writer itself.
	w := ioPkg.Scope().Lookup("Writer").Type()
	p0 := fmtPkg.Scope().Lookup("Fprintf").Type().(*types.Signature).Params().At(0).Type()
	if p0 != w {
		t.Errorf("fmt.Fprintf takes %v (%p), io.Writer is %p", p0, p0, w)
	}
	if len(im.types) < n {
		t.Error("type cache shrank")
	}
	t.Logf("fmt: %d reflect types; fmt and io: %d; packages made: %s", n, len(im.types), packageList(im))
}

func packageList(im *Importer) string {
	var l []string
	for path, p := range im.pkgs {
		if p.Complete() {
			path += "*"
		}
		l = append(l, path)
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

// TestIdentity: a type reached through several packages is one type, and
// aliases are aliases of it.
func TestIdentity(t *testing.T) {
	im := newKernelImporter(t)
	osPkg := mustImport(t, im, "os")
	fi := osPkg.Scope().Lookup("FileInfo").(*types.TypeName)
	if !fi.IsAlias() {
		t.Error("os.FileInfo is not an alias")
	}
	fsPkg := mustImport(t, im, "io/fs")
	timePkg := mustImport(t, im, "time")
	if !types.Identical(fi.Type(), fsPkg.Scope().Lookup("FileInfo").Type()) {
		t.Errorf("os.FileInfo %v is not fs.FileInfo", fi.Type())
	}
	modTime, _, _ := types.LookupFieldOrMethod(fi.Type(), false, nil, "ModTime")
	res := modTime.Type().(*types.Signature).Results().At(0).Type()
	if res != timePkg.Scope().Lookup("Time").Type() {
		t.Errorf("FileInfo.ModTime returns %v, not time.Time", res)
	}
	if tn := timePkg.Scope().Lookup("Time").(*types.TypeName); tn.IsAlias() || tn.Pkg() != timePkg {
		t.Errorf("time.Time: alias %v, package %v", tn.IsAlias(), tn.Pkg())
	}
	// error and any are the universe's.
	newErr := mustImport(t, im, "errors").Scope().Lookup("New").Type().(*types.Signature)
	if newErr.Results().At(0).Type() != types.Universe.Lookup("error").Type() {
		t.Errorf("errors.New returns %v", newErr.Results().At(0).Type())
	}
	println := mustImport(t, im, "fmt").Scope().Lookup("Println").Type().(*types.Signature)
	if s := println.String(); s != "func(...any) (int, error)" {
		t.Errorf("fmt.Println: %s", s)
	}
}

func mustImport(t *testing.T, im *Importer, path string) *types.Package {
	t.Helper()
	p, err := im.Import(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAliasInTable: a table entry whose type reflect names otherwise is an
// alias; a type seen first through another package is reused by its own.
func TestAliasInTable(t *testing.T) {
	type Local struct{ X int }
	syms := map[string]map[string]reflect.Value{
		"example.com/a/a": {
			"Dur":   reflect.ValueOf((*interface{ Get() int })(nil)),
			"Local": reflect.ValueOf((*Local)(nil)), // defined in this test's package
			"Uses":  reflect.ValueOf(func(Local) {}),
		},
	}
	im := NewImporter(syms, nil)
	a := mustImport(t, im, "example.com/a")
	for _, name := range []string{"Dur", "Local"} {
		if tn := a.Scope().Lookup(name).(*types.TypeName); !tn.IsAlias() {
			t.Errorf("%s: not an alias", name)
		}
	}
	local := types.Unalias(a.Scope().Lookup("Local").Type()).(*types.Named)
	if local.Obj().Pkg().Path() != reflect.TypeFor[Local]().PkgPath() || local.Obj().Name() != "Local" {
		t.Errorf("Local is %v", local)
	}
	if p := a.Scope().Lookup("Uses").Type().(*types.Signature).Params().At(0).Type(); p != local {
		t.Errorf("Uses takes %v", p)
	}
}

// TestConcurrentImports runs imports from several goroutines (go test
// -race checks the locking).
func TestConcurrentImports(t *testing.T) {
	im := newKernelImporter(t)
	paths := []string{"fmt", "os", "net/http", "slices", "time", "io", "bufio", "maps", "strings"}
	var wg sync.WaitGroup
	pkgs := make([]*types.Package, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if pkgs[i], err = im.Import(p); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, p := range paths {
		if again := mustImport(t, im, p); again != pkgs[i] {
			t.Errorf("%s: two packages", p)
		}
	}
}

// BenchmarkImportFmtStringsOs is the cost of a first cell importing fmt,
// strings and os, from a new importer.
func BenchmarkImportFmtStringsOs(b *testing.B) {
	syms, srcs := kernelSymbols(), genericSources(b)
	b.ReportAllocs()
	for b.Loop() {
		im := NewImporter(syms, srcs)
		for _, p := range []string{"fmt", "strings", "os"} {
			if _, err := im.Import(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkImportEverything imports every bundled package, from a new
// importer: the worst case, the sum of all laziness saves.
func BenchmarkImportEverything(b *testing.B) {
	syms, srcs := kernelSymbols(), genericSources(b)
	var paths []string
	for k := range syms {
		if i := strings.LastIndexByte(k, '/'); i > 0 {
			paths = append(paths, k[:i])
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		im := NewImporter(syms, srcs)
		for _, p := range paths {
			if _, err := im.Import(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkImportSlices type-checks yaegi's generic slices source (and
// cmp), from a new importer.
func BenchmarkImportSlices(b *testing.B) {
	syms, srcs := kernelSymbols(), genericSources(b)
	for b.Loop() {
		if _, err := NewImporter(syms, srcs).Import("slices"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckCell is a cell type-checked with a warm importer: what
// the kernel pays per cell once its imports are built.
func BenchmarkCheckCell(b *testing.B) {
	im := newKernelImporter(b)
	const src = `package p
import ("fmt"; "os"; "strings"; "time")
func f() {
	var sb strings.Builder
	for i := range 10 {
		fmt.Fprintf(&sb, "%d %s\n", i, time.Second*time.Duration(i))
	}
	fmt.Fprintln(os.Stdout, strings.ToUpper(sb.String()), len(os.Args))
}`
	check(b, im, src)
	b.ReportAllocs()
	for b.Loop() {
		if errs, _, _ := check(b, im, src); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
