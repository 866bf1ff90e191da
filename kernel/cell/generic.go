package cell

import (
	"go/parser"
	"go/token"

	"github.com/traefik/yaegi/stdlib/generic"
)

// genericSources are the generic standard packages the interpreter runs
// from source (yaegi's copies of cmp, maps and slices), by import path,
// for the type checker to see exactly what the interpreter has.
func genericSources() map[string][]string {
	out := map[string][]string{}
	for _, src := range generic.Sources {
		f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
		if err != nil {
			continue
		}
		out[f.Name.Name] = append(out[f.Name.Name], src)
	}
	return out
}
