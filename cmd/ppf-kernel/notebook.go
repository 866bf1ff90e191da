package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ppfkit/ppf/kernel"
)

// notebook opens the tutorials in one command: it installs the kernelspec
// for this user when it is missing or runs another binary, then starts
// Jupyter on the notebooks folder (bound to loopback), or with --html
// executes every notebook into read-only HTML copies with their outputs.
func notebook(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ppf-kernel notebook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "notebooks", "the folder of notebooks to open")
	html := fs.String("html", "", "instead of starting Jupyter, execute every notebook of --dir and write HTML copies with their outputs to `DIR` (a few minutes)")
	dry := fs.Bool("dry-run", false, "print what would be run, run nothing")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: ppf-kernel notebook [--dir notebooks] [--html DIR] [--dry-run] [-- JUPYTER ARGS...]\n\n"+
			"Installs the kernelspec if needed and starts Jupyter on the tutorials\n(jupyter-notebook, else jupyter-lab), on 127.0.0.1 unless JUPYTER ARGS say otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ppf-kernel notebook: "+format+"\n", a...)
		return 1
	}
	nbs, _ := filepath.Glob(filepath.Join(*dir, "*.ipynb"))
	nbs = slices.DeleteFunc(nbs, func(p string) bool { return filepath.Base(p) == "smoke.ipynb" }) // the kernel's own test
	if len(nbs) == 0 {
		return fail("no notebooks in %s; run this from the ppf repository's root (go run ./cmd/ppf-kernel notebook) or give --dir", *dir)
	}
	jupyterCmd, err := findJupyter(*html != "")
	if err != nil {
		return fail("%v", err)
	}
	exe, err := stableExecutable(!*dry)
	if err != nil {
		return fail("%v", err)
	}
	kernels, err := kernel.UserKernelsDir()
	if err != nil {
		return fail("%v", err)
	}
	var cmd []string
	if *html != "" {
		cmd = append([]string{jupyterCmd, "--to", "html", "--execute", "--ExecutePreprocessor.timeout=600",
			"--ExecutePreprocessor.kernel_name=" + kernel.SpecName, "--output-dir", *html}, nbs...)
	} else {
		cmd = []string{jupyterCmd, "--notebook-dir=" + *dir}
		if !slices.ContainsFunc(fs.Args(), func(a string) bool { return strings.HasPrefix(a, "--ip") }) {
			cmd = append(cmd, "--ip=127.0.0.1")
		}
	}
	cmd = append(cmd, fs.Args()...)
	installed := specRuns(filepath.Join(kernels, kernel.SpecName, "kernel.json"), exe)
	if *dry {
		if !installed {
			fmt.Fprintf(stdout, "install kernelspec %s in %s (runs %s)\n", kernel.SpecName, kernels, exe)
		}
		fmt.Fprintln(stdout, strings.Join(cmd, " "))
		return 0
	}
	if !installed {
		where, err := kernel.Install(kernels, kernel.NewSpec(exe))
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stderr, "ppf-kernel notebook: installed kernelspec %s in %s (runs %s)\n", kernel.SpecName, where, exe)
	}
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
	if err := c.Run(); err != nil {
		return fail("%s: %v", cmd[0], err)
	}
	if *html != "" {
		fmt.Fprintf(stdout, "wrote %d executed notebooks as HTML to %s\n", len(nbs), *html)
	}
	return 0
}

// findJupyter returns the program that opens notebooks (or, for HTML,
// executes and converts them), or an error saying what to install.
func findJupyter(html bool) (string, error) {
	progs := []string{"jupyter-notebook", "jupyter-lab"}
	install := "apt-get install -y jupyter-notebook (Debian, Ubuntu) or pip install notebook"
	if html {
		progs = []string{"jupyter-nbconvert"}
		install = "apt-get install -y jupyter-nbconvert (Debian, Ubuntu) or pip install nbconvert"
	}
	for _, p := range progs {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (not on PATH): %s", progs[0], install)
}

// stableExecutable is this binary's path, or, under go run (a binary in
// Go's build cache, deleted when the command ends), a copy kept in the
// user's cache folder, so that the kernelspec keeps working; the copy is
// made only when write is true.
func stableExecutable(write bool) (string, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return "", fmt.Errorf("finding this binary: %w", err)
	}
	if !strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return exe, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("go run builds a temporary binary, and there is no cache folder to keep a copy in (%v): build one with go build -o bin/ppf-kernel ./cmd/ppf-kernel", err)
	}
	dst := filepath.Join(cache, "ppf", "ppf-kernel")
	if !write {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return "", err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp, dst)
}

// specRuns reports whether the kernelspec at path runs exe.
func specRuns(path, exe string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var spec kernel.Spec
	return json.Unmarshal(b, &spec) == nil && len(spec.Argv) > 0 && spec.Argv[0] == exe
}
