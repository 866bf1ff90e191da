package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// dedupImports rewrites an import chunk without the imports an earlier
// cell already made (yaegi rejects a second import of a package, and a
// notebook re-runs its import cells all the time). It returns "" when
// nothing is left to import. Kept imports stay on their lines; added
// lists their names, to forget if the chunk does not compile.
func (e *Engine) dedupImports(src string) (out string, added []string, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell", "package p;"+src, parser.ImportsOnly)
	if err != nil {
		return "", nil, err
	}
	lines := make([]string, strings.Count(src, "\n")+1)
	kept := 0
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		name := e.pkgName(path)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		if name == "_" || name == "." {
			continue // no name to clash; yaegi does not support dot imports well either
		}
		if prev, ok := e.imported[name]; ok {
			if prev == path {
				continue
			}
			return "", added, fmt.Errorf("line %d: %s is already the name of %q: import %q under another name (import alias %q)",
				fset.Position(spec.Pos()).Line, name, prev, path, path)
		}
		e.imported[name] = path
		added = append(added, name)
		line := fset.Position(spec.Pos()).Line - 1
		if lines[line] != "" {
			lines[line] += "; "
		}
		lines[line] += "import " + importSpec(spec)
		kept++
	}
	if kept == 0 {
		return "", nil, nil
	}
	return strings.Join(lines, "\n"), added, nil
}

// forgetImports undoes dedupImports' record of names whose import failed.
func (e *Engine) forgetImports(names []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		delete(e.imported, n)
	}
}

func importSpec(s *ast.ImportSpec) string {
	if s.Name != nil {
		return s.Name.Name + " " + s.Path.Value
	}
	return s.Path.Value
}

// pkgName is the name a package is imported under: the one its symbols
// are registered with ("path/name"), else the path's last element.
func (e *Engine) pkgName(path string) string {
	for key := range e.symbols {
		if strings.HasPrefix(key, path+"/") && !strings.Contains(key[len(path)+1:], "/") {
			return key[len(path)+1:]
		}
	}
	return pkgName(path)
}
