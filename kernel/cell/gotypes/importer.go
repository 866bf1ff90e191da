// Package gotypes gives go/types a view of the packages a notebook cell can
// import, built from the very symbol tables the yaegi interpreter runs
// with (yaegi's interp.Exports: "import/path/name" -> symbol ->
// reflect.Value), so that the type checker accepts exactly what the
// interpreter can call, and the kernel needs neither GOROOT sources nor
// export data at run time.
//
// Packages are built lazily, one per Import: only the imported package's
// symbols are converted. Types of other packages met on the way (a
// function returning *bufio.Reader, an unexported field of type
// poll.FD) become *types.Named in a *types.Package for their PkgPath,
// created on demand and reused when that package is imported later, so
// that every reflect.Type maps to one types.Type and identity holds
// across packages.
//
// Generic packages (slices, maps, cmp), which yaegi interprets from
// source, are type-checked from that source instead.
package gotypes

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Importer builds go/types packages from yaegi symbol tables, lazily, one
// package per Import. It implements types.Importer and
// types.ImporterFrom. It is safe for use from several goroutines, one
// Import at a time (a mutex serialises them).
type Importer struct {
	mu sync.Mutex

	// syms holds the tables by import path; a path listed under two keys
	// (two package names) gets both, as yaegi merges them too.
	syms    map[string][]map[string]reflect.Value
	names   map[string]string // import path -> package name, from the table keys
	sources map[string][]string

	pkgs    map[string]*types.Package // every package made so far, complete or not
	failed  map[string]error          // source packages that did not type-check
	loading map[string]bool           // source packages being checked, to report cycles
	types   map[reflect.Type]types.Type
	fset    *token.FileSet // positions of the source-checked packages
}

// NewImporter returns an importer for the packages of syms (keys
// "import/path/name", as in interp.Exports; a key without a slash, such as
// yaegi's ".", names no importable package and is ignored) and sources
// (import path -> Go source files, for generic packages such as slices,
// maps, cmp or iter; they take precedence over syms for their path and may
// import other packages through this importer). Neither map is changed or
// copied; they must not change while the importer is in use.
func NewImporter(syms map[string]map[string]reflect.Value, sources map[string][]string) *Importer {
	im := &Importer{
		syms:    make(map[string][]map[string]reflect.Value, len(syms)),
		names:   make(map[string]string, len(syms)),
		sources: sources,
		pkgs:    make(map[string]*types.Package),
		failed:  make(map[string]error),
		loading: make(map[string]bool),
		types:   make(map[reflect.Type]types.Type, 1024),
		fset:    token.NewFileSet(),
	}
	// Sorted, so that a path registered under two names always gets the
	// same name.
	keys := make([]string, 0, len(syms))
	for k := range syms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := strings.LastIndexByte(k, '/')
		if i <= 0 || i == len(k)-1 {
			continue
		}
		path, name := k[:i], k[i+1:]
		im.syms[path] = append(im.syms[path], syms[k])
		if _, ok := im.names[path]; !ok {
			im.names[path] = name
		}
	}
	return im
}

// FileSet holds the positions of the objects of the packages checked from
// source. They are not positions of the caller's file set: a caller that
// prints positions of imported objects should resolve them here.
func (im *Importer) FileSet() *token.FileSet { return im.fset }

// Import returns the complete package for path, building it on first use.
func (im *Importer) Import(path string) (*types.Package, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.load(path)
}

// ImportFrom is Import: bundled packages have no directory and no vendoring.
func (im *Importer) ImportFrom(path, dir string, mode types.ImportMode) (*types.Package, error) {
	return im.Import(path)
}

// NotBundledError is the error Import returns for a path that is neither
// in the symbol tables nor in the sources.
func NotBundledError(path string) error {
	return fmt.Errorf("package %s is not bundled with this kernel (see docs/kernel.md, \"Packages\")", path)
}

// load is Import with im.mu held. The source packages' checker calls back
// into it (through locked), so it must not take the lock itself.
func (im *Importer) load(path string) (pkg *types.Package, err error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	if p := im.pkgs[path]; p != nil && p.Complete() {
		return p, nil
	}
	if err := im.failed[path]; err != nil {
		return nil, err
	}
	// A panic here is a reflect form this package does not handle; the
	// kernel should report it on the import, not die. The half-built
	// package is not marked complete.
	defer func() {
		if r := recover(); r != nil {
			pkg, err = nil, fmt.Errorf("building package %s for the type checker: %v", path, r)
		}
	}()
	if srcs, ok := im.sources[path]; ok {
		return im.checkSource(path, srcs)
	}
	tables, ok := im.syms[path]
	if !ok {
		return nil, NotBundledError(path)
	}
	pkg = im.pkg(path)
	scope := pkg.Scope()
	for _, tbl := range tables {
		// Sorted, so that building (and what a panic leaves behind) does
		// not depend on map order.
		names := make([]string, 0, len(tbl))
		for name := range tbl {
			if !strings.HasPrefix(name, "_") { // yaegi's interface wrappers
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if scope.Lookup(name) != nil {
				continue
			}
			if obj := im.object(pkg, name, tbl[name]); obj != nil {
				scope.Insert(obj)
			}
		}
	}
	pkg.MarkComplete()
	return pkg, nil
}

// pkg returns the package for path, creating it (empty and incomplete)
// when a type of it is met for the first time.
func (im *Importer) pkg(path string) *types.Package {
	if p := im.pkgs[path]; p != nil {
		return p
	}
	name, ok := im.names[path]
	if !ok {
		name = guessName(path)
	}
	p := types.NewPackage(path, name)
	im.pkgs[path] = p
	return p
}

// guessName names a package met only through a type (an internal or
// vendored package): its last path element, skipping a major version
// suffix. The name only shows in messages; identity is by path.
func guessName(path string) string {
	elems := strings.Split(path, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && len(name) > 1 && name[0] == 'v' {
		if _, err := strconv.Atoi(name[1:]); err == nil {
			name = elems[len(elems)-2]
		}
	}
	if i := strings.IndexByte(name, '.'); i > 0 { // gopkg.in/yaml.v3
		name = name[:i]
	}
	return strings.ReplaceAll(name, "-", "_")
}

// locked lets the checker of a source package import through the importer
// whose lock its caller already holds.
type locked struct{ im *Importer }

func (l locked) Import(path string) (*types.Package, error) { return l.im.load(path) }

// checkSource type-checks the source files of a (generic) package. The
// package object made on demand for path, if any, is reused so that the
// path has one package; the checker fills its scope.
func (im *Importer) checkSource(path string, srcs []string) (*types.Package, error) {
	if im.loading[path] {
		return nil, fmt.Errorf("import cycle through bundled source of package %s", path)
	}
	im.loading[path] = true
	defer delete(im.loading, path)

	files := make([]*ast.File, 0, len(srcs))
	for i, src := range srcs {
		f, err := parser.ParseFile(im.fset, fmt.Sprintf("%s/%d.go", path, i), src, parser.SkipObjectResolution)
		if err != nil {
			err = fmt.Errorf("bundled source of package %s: %w", path, err)
			im.failed[path] = err
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		err := fmt.Errorf("bundled source of package %s: no files", path)
		im.failed[path] = err
		return nil, err
	}
	pkg := im.pkgs[path]
	if pkg == nil || pkg.Name() != files[0].Name.Name {
		pkg = types.NewPackage(path, files[0].Name.Name)
	}
	conf := types.Config{Importer: locked{im}}
	if err := types.NewChecker(&conf, im.fset, pkg, nil).Files(files); err != nil {
		err = fmt.Errorf("bundled source of package %s: %w", path, err)
		im.failed[path] = err
		return nil, err
	}
	pkg.MarkComplete()
	im.pkgs[path] = pkg
	return pkg, nil
}
