package display

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
)

var funcs = map[string]any{
	"Show": Show, "HTML": HTML, "Markdown": Markdown, "SVG": SVG, "PNG": PNG, "Table": Table,
	"Publish": Publish, "Update": Update, "UpdateHTML": UpdateHTML, "UpdateMarkdown": UpdateMarkdown,
	"Clear": Clear, "NewID": NewID, "NewProgress": NewProgress, "Context": Context, "Input": Input,
	"Password": Password,
}

// TestEveryFunctionHasItsMethod checks the contract the kernel relies on:
// each exported package-level function has a method of the same name and
// signature on *Output, to which the kernel binds it.
func TestEveryFunctionHasItsMethod(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "funcs.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := reflect.ValueOf(NewOutput(nil))
	n := 0
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || !fd.Name.IsExported() {
			continue
		}
		n++
		m := out.MethodByName(fd.Name.Name)
		fn, listed := funcs[fd.Name.Name]
		switch {
		case !m.IsValid():
			t.Errorf("%s has no method on *Output", fd.Name.Name)
		case !listed:
			t.Errorf("add %s to this test's funcs", fd.Name.Name)
		case reflect.TypeOf(fn) != m.Type():
			t.Errorf("%s is %v but its method is %v", fd.Name.Name, reflect.TypeOf(fn), m.Type())
		}
	}
	if n < 10 {
		t.Errorf("found %d functions in funcs.go", n)
	}
}

type recordSink struct {
	published, updated []Data
	cleared            int
}

func (s *recordSink) Publish(d Data) error               { s.published = append(s.published, d); return nil }
func (s *recordSink) Update(d Data) error                { s.updated = append(s.updated, d); return nil }
func (s *recordSink) Clear(bool) error                   { s.cleared++; return nil }
func (s *recordSink) Context() context.Context           { return context.Background() }
func (s *recordSink) Input(string, bool) (string, error) { return "x", nil }

func TestOutput(t *testing.T) {
	s := &recordSink{}
	o := NewOutput(s)
	o.HTML("<i>a</i>")
	o.Table([]string{"a", "b"}, [][]string{{"1", "<2>"}})
	id := o.NewID()
	o.UpdateMarkdown(id, "one")
	o.UpdateMarkdown(id, "two")
	p := o.NewProgress("p")
	p.Update(5, 5)
	if len(s.published) != 4 || len(s.updated) != 2 {
		t.Fatalf("published %d, updated %d; want 4 and 2", len(s.published), len(s.updated))
	}
	if h := s.published[1].MIME[MIMEHTML].(string); !strings.Contains(h, "<td>&lt;2&gt;</td>") {
		t.Errorf("table cells are not escaped: %s", h)
	}
	if s.updated[0].ID != id || s.updated[0].MIME[MIMEMarkdown] != "two" {
		t.Errorf("update %+v", s.updated[0])
	}
	if !strings.Contains(s.updated[1].MIME[MIMEText].(string), "5/5 (100%)") {
		t.Errorf("progress %v", s.updated[1].MIME[MIMEText])
	}
	o.Update(Data{})
	if o.Err() == nil {
		t.Error("Update without an id gave no error")
	}
}

type rich struct{}

func (rich) HTML() string     { return "<b>r</b>" }
func (rich) Markdown() string { return "**r**" }
func (rich) String() string   { return "r" }

func TestBundle(t *testing.T) {
	b := Bundle(rich{})
	if b[MIMEHTML] != "<b>r</b>" || b[MIMEMarkdown] != "**r**" || b[MIMEText] != "r" {
		t.Errorf("Bundle = %v", b)
	}
}

func TestTextFallback(t *testing.T) {
	var buf bytes.Buffer
	o := NewOutput(textSink{w: &buf, r: strings.NewReader("Ada\n")})
	o.Table([]string{"model", "ppl"}, [][]string{{"stories260K", "5.74"}})
	name, err := o.Input("name? ")
	if err != nil || name != "Ada" {
		t.Errorf("Input = %q, %v", name, err)
	}
	want := "model        ppl\nstories260K  5.74\nname? "
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
