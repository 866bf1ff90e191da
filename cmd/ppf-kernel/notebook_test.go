package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProgram puts an executable name on a PATH of its own that records
// its arguments in a file, and returns that file.
func fakeProgram(t *testing.T, name string) string {
	bin, log := t.TempDir(), filepath.Join(t.TempDir(), "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + log + "\n"
	if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	return log
}

// notebook installs the kernelspec when it is missing and starts Jupyter
// on the notebooks, on loopback; a second run finds the kernelspec in place.
func TestNotebookStartsJupyter(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // where a go-run binary is copied
	log := fakeProgram(t, "jupyter-notebook")
	dir := filepath.Join("..", "..", "notebooks")
	for i := range 2 {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"notebook", "--dir", dir}, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if installed := strings.Contains(errb.String(), "installed kernelspec ppf"); installed != (i == 0) {
			t.Errorf("run %d: %q", i+1, errb.String())
		}
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "--notebook-dir="+dir+"\n--ip=127.0.0.1\n" {
		t.Errorf("jupyter-notebook ran with %q", got)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("JUPYTER_DATA_DIR"), "kernels", "ppf", "kernel.json")); err != nil {
		t.Error(err)
	}
}

// --html executes the tutorials (not the kernel's smoke test) with
// nbconvert; without Jupyter the error says what to install.
func TestNotebookHTMLAndMissingJupyter(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	log := fakeProgram(t, "jupyter-nbconvert")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"notebook", "--dir", filepath.Join("..", "..", "notebooks"), "--html", "site"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, _ := os.ReadFile(log)
	args := string(b)
	if !strings.Contains(args, "--execute\n") || !strings.Contains(args, "--output-dir\nsite\n") || !strings.Contains(args, "07-duel.ipynb") || strings.Contains(args, "smoke") {
		t.Errorf("nbconvert ran with %q", args)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"notebook", "--dir", filepath.Join("..", "..", "notebooks")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "apt-get install -y jupyter-notebook") {
		t.Errorf("no jupyter-notebook on PATH: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"notebook", "--dir", t.TempDir()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no notebooks in") {
		t.Errorf("an empty folder: exit %d, %q", code, errb.String())
	}
}
