package cell

import "strings"

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
