// Command ppf-kernel is PPF's Jupyter kernel: Go cells, interpreted, with
// package ppfnb compiled in (see package kernel).
//
//	ppf-kernel notebook [--html DIR]           open the tutorials in Jupyter (installing the kernelspec first), or execute them to HTML
//	ppf-kernel install [--user | --prefix P]   write the kernelspec "ppf" (Go (PPF))
//	ppf-kernel add PKGPATH[@VERSION]...         bundle third-party packages (rebuilds the kernel)
//	ppf-kernel --connection-file F              run the kernel (Jupyter does this)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ppfkit/ppf/kernel"
)

const usage = `ppf-kernel: the PPF Jupyter kernel (Go cells)

Usage:
  ppf-kernel notebook [--dir notebooks] [--html DIR] [-- JUPYTER ARGS...]
        open the tutorials: install the kernelspec if needed and start Jupyter
        on notebooks/ (127.0.0.1); --html DIR executes them into HTML copies
        with their outputs instead (ppf-kernel notebook -h for the flags)
  ppf-kernel install [--user | --prefix P]
        write the kernelspec "ppf" so that Jupyter lists "Go (PPF)";
        --user (the default) installs for this user, --prefix under P/share/jupyter
  ppf-kernel add [--repo DIR] [--prefix P] PKGPATH[@VERSION]...
        in the ppf repository, bundle packages with the kernel so that cells
        can import them: go get, generate their symbols, rebuild and reinstall
        (see docs/kernel-packages.md; ppf-kernel add -h for the flags)
  ppf-kernel --connection-file F
        run the kernel; Jupyter starts it this way
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "install" {
		return install(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "notebook" {
		return notebook(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "add" {
		return add(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("ppf-kernel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	conn := fs.String("connection-file", "", "the connection file Jupyter writes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *conn == "" {
		fmt.Fprint(stderr, "ppf-kernel: --connection-file is missing (to make Jupyter list the kernel, run: ppf-kernel install)\n\n"+usage)
		return 2
	}
	if err := kernel.Run(ctx, *conn); err != nil {
		fmt.Fprintf(stderr, "ppf-kernel: %v\n", err)
		return 1
	}
	return 0
}

func install(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ppf-kernel install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.Bool("user", false, "install for the current user (the default)")
	prefix := fs.String("prefix", "", "install under `P`/share/jupyter/kernels (a virtualenv or /usr/local)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *user && *prefix != "" {
		fmt.Fprintln(stderr, "ppf-kernel install: give --user or --prefix, not both")
		return 2
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ppf-kernel install: finding this binary: %v\n", err)
		return 1
	}
	dir := ""
	if *prefix != "" {
		dir = kernel.PrefixKernelsDir(*prefix)
	} else if dir, err = kernel.UserKernelsDir(); err != nil {
		fmt.Fprintf(stderr, "ppf-kernel install: %v\n", err)
		return 1
	}
	where, err := kernel.Install(dir, kernel.NewSpec(exe))
	if err != nil {
		fmt.Fprintf(stderr, "ppf-kernel install: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "installed kernelspec %s in %s (runs %s)\n", kernel.SpecName, where, exe)
	return 0
}
