package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uuidModule is a small real module with no dependencies, fetched through
// the Go module proxy.
const uuidModule = "github.com/google/uuid@v1.6.0"

// cellMain runs the cells given as arguments in the kernel's engine and
// prints what they show, as a notebook would.
const cellMain = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ppfkit/ppf/kernel/cell"
	"github.com/ppfkit/ppf/ppfnb/display"
)

// pub shows results, help and errors; these cells publish nothing else.
type pub struct{ cell.Publisher }

func (pub) Result(d display.Data) { fmt.Printf("result: %v\n", d.MIME[display.MIMEText]) }
func (pub) Page(text string)      { fmt.Printf("page: %s\n", text) }
func (pub) Error(e *cell.Error)   { fmt.Printf("error: %s: %s\n", e.Name, e.Value) }

func main() {
	e, err := cell.New()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	for _, code := range os.Args[1:] {
		e.Execute(context.Background(), code, pub{})
	}
}
`

// The add flow, for real, on a copy of the repository: the package's
// symbols and docs are generated and compile, the kernel is rebuilt and
// its kernelspec rewritten, and a cell imports the package and calls it.
func TestAddPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: adding a package downloads a module and rebuilds the kernel")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe := exec.CommandContext(ctx, "go", "mod", "download", "-json", uuidModule)
	probe.Dir = t.TempDir()
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("the Go module proxy is unreachable (go mod download %s: %v): %s", uuidModule, err, out)
	}

	repo := filepath.Join(t.TempDir(), "ppf")
	copyRepo(t, "../..", repo)
	prefix := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"add", "--repo", repo, "--prefix", prefix, uuidModule}, &stdout, &stderr); code != 0 {
		t.Fatalf("add: exit %d\n%s", code, stderr.String())
	}
	t.Logf("add printed:\n%s", stderr.String())
	if want := "bundled github.com/google/uuid: cells can import it once the kernel restarts\n"; !strings.HasPrefix(stdout.String(), want) {
		t.Errorf("stdout %q, want it to start with %q", stdout.String(), want)
	}
	symbolsGo := read(t, filepath.Join(repo, symbolsDir, "symbols.go"))
	if want := extractLine("github.com/google/uuid") + "\n" + docsgenLine + "\n"; !strings.Contains(symbolsGo, want) {
		t.Errorf("symbols.go lacks %q above the docsgen line:\n%s", want, symbolsGo)
	}
	syms := read(t, filepath.Join(repo, symbolsDir, "github_com-google-uuid.go"))
	if !strings.Contains(syms, `"NewSHA1":`) {
		t.Errorf("the generated symbols lack NewSHA1:\n%.500s", syms)
	}
	if docs := read(t, filepath.Join(repo, symbolsDir, "docs-github_com-google-uuid.go")); !strings.Contains(docs, "NewSHA1 returns a new SHA1 (Version 5) UUID") {
		t.Errorf("the generated docs lack NewSHA1's:\n%.500s", docs)
	}
	if gomod := read(t, filepath.Join(repo, "go.mod")); !strings.Contains(gomod, "\tgithub.com/google/uuid v1.6.0\n") {
		t.Errorf("go.mod does not require github.com/google/uuid v1.6.0 directly:\n%s", gomod)
	}
	var spec struct{ Argv []string }
	if err := json.Unmarshal([]byte(read(t, filepath.Join(prefix, "share", "jupyter", "kernels", "ppf", "kernel.json"))), &spec); err != nil {
		t.Fatal(err)
	}
	if exe := filepath.Join(repo, "bin", "ppf-kernel"); len(spec.Argv) == 0 || spec.Argv[0] != exe {
		t.Errorf("the kernelspec runs %v, want the rebuilt %s", spec.Argv, exe)
	}

	// A cell imports the package and calls it; help shows its docs.
	if err := os.MkdirAll(filepath.Join(repo, "cmd", "cellrun"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "cmd", "cellrun", "main.go"), []byte(cellMain), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./cmd/cellrun",
		`import "github.com/google/uuid"`,
		`uuid.NewSHA1(uuid.NameSpaceDNS, []byte("python.org")).String()`,
		`?uuid.SetNodeID`)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running cells: %v\n%s", err, out)
	}
	// Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), from its docs.
	want := "result: 886313e1-3b8a-5372-9b90-0c9aee199e5d\n" +
		"page: uuid.SetNodeID func([]uint8) bool\n\nfunc SetNodeID(id []byte) bool\n\n" +
		"SetNodeID sets the Node ID to be used for Version 1 UUIDs. The first 6 bytes of\n" +
		"id are used. If id is less than 6 bytes then false is returned and the Node ID\nis not set.\n"
	if string(out) != want {
		t.Errorf("cells printed:\n%s\nwant:\n%s", out, want)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// copyRepo copies the repository's files, without what git and npm keep
// and what builds write.
func copyRepo(t *testing.T, from, to string) {
	t.Helper()
	skip := map[string]bool{".git": true, "node_modules": true, "bin": true}
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() && skip[d.Name()] {
			return filepath.SkipDir
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		w, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, src); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAddExtractLines(t *testing.T) {
	src := "package symbols\n\n" + extractLine("a.com/x") + "\n" + docsgenLine + "\n\nvar X int\n"
	got, added := addExtractLines(src, []pkg{{"a.com/x", ""}, {"b.org/y", "v1.2.3"}})
	want := "package symbols\n\n" + extractLine("a.com/x") + "\n" + extractLine("b.org/y") + "\n" + docsgenLine + "\n\nvar X int\n"
	if got != want || len(added) != 1 || added[0] != extractLine("b.org/y") {
		t.Errorf("addExtractLines = %q, %q; want %q", got, added, want)
	}
	if again, added := addExtractLines(got, []pkg{{"b.org/y", ""}}); again != got || added != nil {
		t.Errorf("a second add changed symbols.go: %q, %q", again, added)
	}
}

func TestAddUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"add"}, 2, "name a package to bundle"},
		{[]string{"add", "strings"}, 2, "strings is in the standard library"},
		{[]string{"add", "example.com/x; rm -rf /"}, 2, "is not an import path"},
		{[]string{"add", "--repo", "/nonexistent", "-n", "example.com/x"}, 1, "/nonexistent is not the ppf repository"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
	// A dry run prints the commands in order and changes nothing.
	var out, errb bytes.Buffer
	repo, _ := filepath.Abs("../..")
	before := read(t, filepath.Join(repo, symbolsDir, "symbols.go"))
	if code := run(context.Background(), []string{"add", "-n", "--repo", repo, "--no-install", "example.com/x@v1.0.0"}, &out, &errb); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb.String())
	}
	want := "+ (cd " + repo + " && go get example.com/x@v1.0.0)\n" +
		"+ add to kernel/cell/symbols/symbols.go: " + extractLine("example.com/x") + "\n" +
		"+ (cd " + repo + " && go generate -run 'extract -name symbols (example\\.com/x)$|//go:generate go run docsgen\\.go$' ./kernel/cell/symbols)\n" +
		"+ (cd " + repo + " && go mod tidy)\n" +
		"+ (cd " + repo + " && go build -o " + filepath.Join(repo, "bin", "ppf-kernel") + " ./cmd/ppf-kernel)\n"
	if errb.String() != want || out.String() != "" {
		t.Errorf("dry run printed:\n%s\nwant:\n%s", errb.String(), want)
	}
	if read(t, filepath.Join(repo, symbolsDir, "symbols.go")) != before {
		t.Error("the dry run changed symbols.go")
	}
}
