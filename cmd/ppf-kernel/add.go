package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The kernel runs only packages compiled into it (yaegi cannot load
// compiled code at run time, and interpreting a module's source is slow
// and fails on cgo and assembly), so a third-party package is bundled by
// rebuilding the kernel: `ppf-kernel add` does in the repository what
// docs/kernel-packages.md describes by hand, printing each command.

const addUsage = `Usage: ppf-kernel add [flags] PKGPATH[@VERSION]...

Bundles packages with the kernel so that cells can import them: in the ppf
repository it runs go get, adds a yaegi extract line for each package to
kernel/cell/symbols/symbols.go, generates their symbols and docs, tidies
go.mod, rebuilds the kernel (REPO/bin/ppf-kernel) and reinstalls its
kernelspec. Restart the kernel in Jupyter afterwards. See
docs/kernel-packages.md.

Flags:
`

// symbolsDir holds the generated symbol tables, relative to the repository.
const symbolsDir = "kernel/cell/symbols"

// modulePath is the repository's module, which add looks for.
const modulePath = "github.com/ppfkit/ppf"

// extractLine is the go:generate directive that bundles path.
func extractLine(path string) string {
	return "//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract -name symbols " + path
}

// docsgenLine generates the docs of every bundled package; extract lines
// go above it, so that it sees their symbols.
const docsgenLine = "//go:generate go run docsgen.go"

// pkgPathRe is what add accepts as an import path: no spaces, quotes or
// shell characters, since the path ends up in a go:generate line.
var pkgPathRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~+-]*(/[A-Za-z0-9._~+-]+)*$`)

func add(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ppf-kernel add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, addUsage); fs.PrintDefaults() }
	repo := fs.String("repo", "", "the ppf repository `DIR` (default: found from the current folder up)")
	out := fs.String("o", "", "build the kernel as `FILE` (default REPO/bin/ppf-kernel)")
	tags := fs.String("tags", "", "build `TAGS` for the kernel, such as cuda")
	prefix := fs.String("prefix", "", "install the kernelspec under `P`/share/jupyter (default: for this user)")
	noInstall := fs.Bool("no-install", false, "build the kernel but leave the kernelspec alone")
	dryRun := fs.Bool("n", false, "print the commands and edits, run nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ppf-kernel add: name a package to bundle, such as github.com/google/uuid@v1.6.0")
		return 2
	}
	a := &adder{ctx: ctx, stdout: stdout, stderr: stderr, dryRun: *dryRun}
	for _, arg := range fs.Args() {
		path, version, _ := strings.Cut(arg, "@")
		first, _, _ := strings.Cut(path, "/")
		switch {
		case !pkgPathRe.MatchString(path) || (version != "" && !pkgPathRe.MatchString(version)):
			fmt.Fprintf(stderr, "ppf-kernel add: %q is not an import path with an optional @version\n", arg)
			return 2
		case !strings.Contains(first, "."):
			fmt.Fprintf(stderr, "ppf-kernel add: %s is in the standard library, which the kernel bundles already\n", path)
			return 2
		}
		a.pkgs = append(a.pkgs, pkg{path, version})
	}
	dir := *repo
	if dir == "" {
		wd, err := os.Getwd()
		if err == nil {
			dir, err = findRepo(wd)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ppf-kernel add: %v\n", err)
			return 1
		}
	}
	a.repo = dir
	a.exe = *out
	if a.exe == "" {
		a.exe = filepath.Join(dir, "bin", "ppf-kernel")
	}
	if err := a.run(*tags, *prefix, *noInstall); err != nil {
		fmt.Fprintf(stderr, "ppf-kernel add: %v\n", err)
		return 1
	}
	return 0
}

type pkg struct{ path, version string }

// adder runs the steps of one add in the repository.
type adder struct {
	ctx            context.Context
	stdout, stderr io.Writer
	dryRun         bool
	repo, exe      string
	pkgs           []pkg
}

func (a *adder) run(tags, prefix string, noInstall bool) error {
	if !a.dryRun {
		if _, err := exec.LookPath("go"); err != nil {
			return errors.New("the Go toolchain is needed to rebuild the kernel: go is not on PATH")
		}
	}
	symbolsGo := filepath.Join(a.repo, symbolsDir, "symbols.go")
	old, err := os.ReadFile(symbolsGo)
	if err != nil {
		return fmt.Errorf("%s is not the ppf repository: %w", a.repo, err)
	}
	for _, p := range a.pkgs {
		if strings.HasPrefix(p.path+"/", modulePath+"/") {
			continue // the repository's own package: no module to get
		}
		arg := p.path
		if p.version != "" {
			arg += "@" + p.version
		}
		if err := a.cmd(a.repo, "go", "get", arg); err != nil {
			return err
		}
	}
	edited, added := addExtractLines(string(old), a.pkgs)
	for _, line := range added {
		fmt.Fprintf(a.stderr, "+ add to %s/symbols.go: %s\n", symbolsDir, line)
	}
	if !a.dryRun && len(added) > 0 {
		if err := os.WriteFile(symbolsGo, []byte(edited), 0o644); err != nil {
			return err
		}
	}
	var quoted []string
	for _, p := range a.pkgs {
		quoted = append(quoted, regexp.QuoteMeta(p.path))
	}
	// Only the new packages' lines and docsgen: the other packages'
	// symbols are current (CI checks them).
	run := `extract -name symbols (` + strings.Join(quoted, "|") + `)$|` + regexp.QuoteMeta(docsgenLine) + `$`
	before := map[string]time.Time{}
	for _, p := range a.pkgs {
		if fi, err := os.Stat(a.symbolsFile(p.path)); err == nil {
			before[p.path] = fi.ModTime()
		}
	}
	if err := a.cmd(a.repo, "go", "generate", "-run", run, "./"+symbolsDir); err != nil {
		return a.undo(symbolsGo, old, added, before, err)
	}
	if !a.dryRun {
		for _, p := range a.pkgs {
			// yaegi extract reports a package it cannot load and exits
			// 0 (its message is above): check that it wrote the file.
			fi, err := os.Stat(a.symbolsFile(p.path))
			if err != nil || fi.ModTime().Equal(before[p.path]) {
				return a.undo(symbolsGo, old, added, before, fmt.Errorf("yaegi extract wrote no symbols for %s", p.path))
			}
		}
	}
	if err := a.cmd(a.repo, "go", "mod", "tidy"); err != nil {
		return err
	}
	build := []string{"build"}
	if tags != "" {
		build = append(build, "-tags", tags)
	}
	if err := a.cmd(a.repo, "go", append(build, "-o", a.exe, "./cmd/ppf-kernel")...); err != nil {
		return err
	}
	if !noInstall {
		install := []string{"install"}
		if prefix != "" {
			install = append(install, "--prefix", prefix)
		}
		if err := a.cmd(a.repo, a.exe, install...); err != nil {
			return err
		}
	}
	if a.dryRun {
		return nil
	}
	for _, p := range a.pkgs {
		fmt.Fprintf(a.stdout, "bundled %s: cells can import it once the kernel restarts\n", p.path)
	}
	fmt.Fprintf(a.stdout, "changed: go.mod, go.sum and %s (commit them to keep the package)\n", symbolsDir)
	return nil
}

// symbolsFile is the file yaegi extract writes for path.
func (a *adder) symbolsFile(path string) string {
	return filepath.Join(a.repo, symbolsDir, strings.NewReplacer("/", "-", ".", "_", "~", "_").Replace(path)+".go")
}

// undo puts symbols.go back after a failed generation, and removes the
// symbols files it made, so that the repository's go generate and build
// keep working.
func (a *adder) undo(symbolsGo string, old []byte, added []string, existed map[string]time.Time, err error) error {
	if a.dryRun {
		return err
	}
	for _, p := range a.pkgs {
		if _, ok := existed[p.path]; !ok {
			os.Remove(a.symbolsFile(p.path)) // absent when extract failed
		}
	}
	if len(added) > 0 {
		if werr := os.WriteFile(symbolsGo, old, 0o644); werr != nil {
			return fmt.Errorf("%w; restoring %s also failed: %v", err, symbolsGo, werr)
		}
		return fmt.Errorf("%w (%s is as it was; go.mod may still require the module: go mod tidy removes it)", err, symbolsGo)
	}
	return err
}

// cmd prints a command and, unless this is a dry run, runs it in dir,
// its output going to stderr.
func (a *adder) cmd(dir, name string, args ...string) error {
	fmt.Fprintf(a.stderr, "+ (cd %s && %s %s)\n", dir, name, strings.Join(quoteArgs(args), " "))
	if a.dryRun {
		return nil
	}
	c := exec.CommandContext(a.ctx, name, args...)
	c.Dir = dir
	c.Stdout, c.Stderr = a.stderr, a.stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// quoteArgs quotes, for the printed command, the arguments a shell would
// split or expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, s := range args {
		if strings.ContainsAny(s, " |$()\\*?[]'\"") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		out[i] = s
	}
	return out
}

// addExtractLines returns symbols.go's text with an extract line for each
// package it lacks, above the docsgen line (or after the last line of
// go:generate directives), and the lines added.
func addExtractLines(src string, pkgs []pkg) (string, []string) {
	lines := strings.Split(src, "\n")
	have := map[string]bool{}
	at := len(lines)
	for i, l := range lines {
		have[strings.TrimSpace(l)] = true
		if strings.HasPrefix(l, "//go:generate ") {
			at = i + 1
		}
	}
	if i := slices.Index(lines, docsgenLine); i >= 0 {
		at = i
	}
	var added []string
	for _, p := range pkgs {
		if l := extractLine(p.path); !have[l] {
			added = append(added, l)
			have[l] = true
		}
	}
	if len(added) == 0 {
		return src, nil
	}
	out := append(append(append([]string(nil), lines[:at]...), added...), lines[at:]...)
	return strings.Join(out, "\n"), added
}

// findRepo returns the folder at or above dir whose go.mod is the ppf
// module's.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
					return d, nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the ppf repository (module %s): run this there, or give --repo", dir, modulePath)
		}
	}
}
