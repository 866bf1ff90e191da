package cell

import (
	"context"
	"go/constant"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ppfkit/ppf/kernel/cell/symbols"
)

// Help (inspect_request, and "?name" cells) shows what the kernel knows of
// a name, then its documentation: the declaration and the doc comment, as
// go doc would. The project's packages, and any package bundled with
// `ppf-kernel add`, have their docs compiled in (symbols.Docs, generated
// next to their symbols), so help needs nothing at run time. The standard
// library's are read from GOROOT's sources on first use, one package at a
// time: embedding them would grow the binary by 2.7 MB (0.7 MB
// compressed) and tie the committed files to one Go release.
//
// This file also holds what completion and help share: a candidate, what
// a name denotes (value, type, package), and the members of one (the
// symbols of a package, the fields and methods of a type).

// candidate is one name that completion offers or help describes.
type candidate struct {
	v      reflect.Value // its value, when known
	t      reflect.Type  // its type (for a type name, the type itself), when known
	isType bool          // it names a type
	pkg    string        // the import path, when it names a package
	// pkgIdent is the package's name (its clause's, not always the
	// path's last element: gopkg.in/yaml.v3 is yaml).
	pkgIdent string
	// Where its documentation is: the package path and the key of
	// symbols.Docs, or the struct or named type whose field or method it
	// is (looked up through embedded fields too).
	docPath, docKey string
	owner           reflect.Type
	field           bool   // a struct field (of owner)
	kind            string // "keyword" or "predeclared", for those
}

func valueCandidate(v reflect.Value) candidate {
	if !v.IsValid() {
		return candidate{}
	}
	return candidate{v: v, t: v.Type()}
}

// packageMembers returns a package's exported symbols. A type is held as
// a nil pointer to it; yaegi's interface wrappers (_io_Reader) are left
// out.
func (e *Engine) packageMembers(path string) map[string]candidate {
	out := map[string]candidate{}
	for name, v := range e.packages()[path] {
		if strings.HasPrefix(name, "_") {
			continue
		}
		c := valueCandidate(v)
		if v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr() {
			c = candidate{t: v.Type().Elem(), isType: true}
		}
		c.docPath, c.docKey = path, name
		out[name] = c
	}
	return out
}

// membersOf returns what can follow c and a dot: a package's symbols, or
// the exported fields and methods of c's type (of its static type: an
// interface's methods, not those of the value it holds, which Go would
// not let the cell call without a type assertion).
func (e *Engine) membersOf(c candidate) map[string]candidate {
	if c.pkg != "" {
		return e.packageMembers(c.pkg)
	}
	v, t := c.v, c.t
	if t == nil {
		return nil
	}
	out := map[string]candidate{}
	addMethods(out, t, v)
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		// A variable is addressable: its pointer methods are callable too.
		addMethods(out, reflect.PointerTo(t), reflect.Value{})
	}
	for name, f := range structFields(t, v) {
		if _, ok := out[name]; !ok {
			out[name] = f
		}
	}
	return out
}

func addMethods(out map[string]candidate, t reflect.Type, v reflect.Value) {
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !m.IsExported() {
			continue
		}
		c := candidate{t: m.Type, owner: t}
		if v.IsValid() && !(t.Kind() == reflect.Interface && v.IsNil()) {
			c.v = v.Method(i)
			c.t = c.v.Type()
		} else if t.Kind() != reflect.Interface {
			c.t = withoutReceiver(m.Type)
		}
		out[m.Name] = c
	}
}

// withoutReceiver turns a method expression's type into the method's.
func withoutReceiver(ft reflect.Type) reflect.Type {
	in := make([]reflect.Type, 0, ft.NumIn())
	for i := 1; i < ft.NumIn(); i++ {
		in = append(in, ft.In(i))
	}
	out := make([]reflect.Type, ft.NumOut())
	for i := range out {
		out[i] = ft.Out(i)
	}
	return reflect.FuncOf(in, out, ft.IsVariadic())
}

// structFields returns the fields that a selector on a value of type t (a
// struct or a pointer to one) reaches, promoted ones included, with their
// values when v holds one. A struct type declared in a cell has its
// unexported fields renamed by yaegi to X+name; they are given back their
// names, which the cell may use.
func structFields(t reflect.Type, v reflect.Value) map[string]candidate {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	cellType := t.Name() == "" && t.PkgPath() == ""
	out := map[string]candidate{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if r, _ := utf8.DecodeRuneInString(name[1:]); cellType && name[0] == 'X' && unicode.IsLower(r) {
			name = name[1:]
		}
		c := candidate{t: f.Type, owner: fieldOwner(t, f.Index), field: true}
		if v.IsValid() {
			if fv, err := v.FieldByIndexErr(f.Index); err == nil {
				c.v = fv
			}
		}
		out[name] = c
	}
	return out
}

// fieldOwner is the struct type that declares the field at index (an
// embedded struct's, for a promoted field).
func fieldOwner(t reflect.Type, index []int) reflect.Type {
	for _, i := range index[:len(index)-1] {
		t = t.Field(i).Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return t
}

// noGOROOT is what help says for the standard library without GOROOT.
const noGOROOT = "documentation not available: GOROOT not found (set GOROOT to a Go installation's root)"

// Inspect describes the name under the cursor: its package and type, its
// value for a variable, and its documentation. found is false when
// nothing is known.
func (e *Engine) Inspect(code string, cursor int) (text string, found bool) {
	defer func() {
		if recover() != nil { // as in Complete: help must not end the kernel
			text, found = "", false
		}
	}()
	off := runeOffset(code, cursor)
	for off < len(code) {
		r, n := utf8.DecodeRuneInString(code[off:])
		if !isIdent(r) {
			break
		}
		off += n
	}
	s := identStart(code, off)
	if s == off && off > 0 && code[off-1] == '(' {
		off-- // the function being called
		s = identStart(code, off)
	}
	name := code[s:off]
	if name == "" {
		return "", false
	}
	c, ok := e.candidates(code[:s])[name]
	if !ok {
		return "", false
	}
	full := selectorText(code[:s]) + name
	if full == name && c.field {
		full = c.owner.String() + "." + name // a key of a struct literal
	}
	head := describeCandidate(full, c)
	doc, note := goDocs.forCandidate(name, c)
	if c.field {
		// The field's declaration says what the first line already does.
		_, doc, _ = strings.Cut(doc, "\n\n")
	}
	switch {
	case doc != "" && c.pkg != "":
		return doc, true // it starts with the package clause
	case doc != "":
		return head + "\n\n" + doc, true
	case note != "":
		return head + "\n\n" + note, true
	}
	return head, true
}

// selectorText returns the selector chain that prefix ends with, as
// written ("lm.Model."), or "" when it does not end with a dot.
func selectorText(prefix string) string {
	end := len(prefix)
	if end == 0 || prefix[end-1] != '.' {
		return ""
	}
	start, depth := end, 0
	for start > 0 {
		r, n := utf8.DecodeLastRuneInString(prefix[:start])
		switch {
		case r == ')' || r == ']':
			depth++
		case r == '(' || r == '[':
			if depth == 0 {
				return prefix[start:end]
			}
			depth--
		case depth == 0 && !isIdent(r) && r != '.':
			return prefix[start:end]
		}
		start -= n
	}
	return prefix[:end]
}

// describeCandidate is the first line of help: the name, and its type and
// value when known.
func describeCandidate(full string, c candidate) string {
	switch {
	case c.kind == "keyword":
		return full + " is a keyword"
	case c.kind == "predeclared":
		return full + " is predeclared"
	case c.pkg != "":
		return "package " + c.pkgIdent + " // import \"" + c.pkg + "\""
	case c.isType:
		return full + " is a type: " + c.t.String() + " (" + c.t.Kind().String() + ")"
	case c.v.IsValid() && c.v.CanInterface():
		if cv, ok := c.v.Interface().(constant.Value); ok {
			return full + " untyped " + strings.ToLower(cv.Kind().String()) + " constant = " + cv.String()
		}
		if c.v.Kind() == reflect.Func {
			return full + " " + c.t.String()
		}
		return full + " " + c.t.String() + " = " + Format(c.v.Interface())
	case c.t != nil:
		return full + " " + c.t.String()
	}
	return full
}

// docLibrary finds documentation: symbols.Docs for the bundled packages,
// GOROOT's sources for the standard library, each package read once.
type docLibrary struct {
	findRoot func() string // GOROOT, or "" when there is none

	once sync.Once
	root string

	mu  sync.Mutex
	std map[string]map[string]string // import path -> docs (nil: unreadable)
}

// goDocs is the engines' library: the standard library's docs do not
// change while the kernel runs.
var goDocs = &docLibrary{findRoot: findGOROOT}

// lookup returns the entry key of package path's docs, or why there is
// none (note; "" when simply undocumented).
func (l *docLibrary) lookup(path, key string) (doc, note string) {
	if docs, ok := symbols.Docs[path]; ok {
		return docs[key], ""
	}
	if first, _, _ := strings.Cut(path, "/"); path == "" || strings.Contains(first, ".") {
		return "", "" // a package of another module, not bundled
	}
	l.once.Do(func() { l.root = l.findRoot() })
	if l.root == "" {
		return "", noGOROOT
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	docs, ok := l.std[path]
	if !ok {
		docs, _ = symbols.PackageDocs(filepath.Join(l.root, "src", filepath.FromSlash(path)), path)
		if l.std == nil {
			l.std = map[string]map[string]string{}
		}
		l.std[path] = docs
	}
	if docs == nil {
		return "", "documentation not available: cannot read package " + path + " in GOROOT " + l.root
	}
	return docs[key], ""
}

// forCandidate returns the documentation of c, named name: a package's,
// a package symbol's, or a field's or method's, looked up on the type
// that declares it (through embedded fields for promoted ones).
func (l *docLibrary) forCandidate(name string, c candidate) (doc, note string) {
	if c.docPath != "" || c.pkg != "" {
		return l.lookup(c.docPath, c.docKey)
	}
	if c.owner != nil {
		return l.member(c.owner, name, 0)
	}
	return "", ""
}

// member looks up the docs of field or method name of type t, then of the
// types t embeds.
func (l *docLibrary) member(t reflect.Type, name string, depth int) (doc, note string) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" && t.PkgPath() != "" {
		base, _, _ := strings.Cut(t.Name(), "[") // an instance of a generic type
		if doc, note = l.lookup(t.PkgPath(), base+"."+name); doc != "" || note != "" {
			if t.Kind() == reflect.Interface && !strings.Contains(doc, "\n\n") {
				// An interface's methods are usually documented on it.
				if typeDoc, _ := l.lookup(t.PkgPath(), base); typeDoc != "" {
					doc += "\n\n" + typeDoc
				}
			}
			return doc, note
		}
	}
	if t.Kind() != reflect.Struct || depth > 3 {
		return "", ""
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Anonymous {
			if doc, note = l.member(f.Type, name, depth+1); doc != "" {
				return doc, note
			}
		}
	}
	return "", ""
}

// findGOROOT returns the root of a Go installation with sources: $GOROOT,
// the one the kernel was built with (empty under -trimpath), or the go
// command's; "" when there is none.
func findGOROOT() string {
	for _, dir := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if isGOROOT(dir) {
			return dir
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); isGOROOT(dir) {
			return dir
		}
	}
	return ""
}

func isGOROOT(dir string) bool {
	if dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "src", "builtin", "builtin.go"))
	return err == nil
}
