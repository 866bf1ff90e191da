package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
	"github.com/ppfkit/ppf/ppfnb/web"
)

// runServe serves the predictor page (package ppfnb/web): the predictor
// runs in the browser, so the server only hands out files.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--predictor FILE [--agent FILE]]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on; the default takes connections from this machine only")
	predPath := fs.String("predictor", "", "predictor file (predictor.Save) to open the page with; none: a demo predictor and agent")
	agentPath := fs.String("agent", "", "its agent file (agent.Save), optional")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ppf serve: unexpected argument %q; files go after --predictor and --agent\n", fs.Arg(0))
		return errUsage
	}
	files, err := serveFiles(*predPath, *agentPath)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%w; pick another port with --addr 127.0.0.1:PORT", err)
	}
	host := ln.Addr().(*net.TCPAddr)
	shown := host.String()
	if host.IP.IsUnspecified() {
		shown = net.JoinHostPort("127.0.0.1", fmt.Sprint(host.Port))
		fmt.Fprintf(stderr, "ppf serve: listening on every interface (%s): anyone who can reach this machine can open the page and read its files\n", host)
	}
	fmt.Fprintf(stdout, "ppf serve: the predictor page is at http://%s/ (Ctrl-C stops)\n", shown)

	handler := web.Handler(files)
	if host.IP.IsLoopback() {
		handler = loopbackOnly(handler, shown)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "ppf serve: stopped")
	return nil
}

// loopbackOnly refuses, with 403, requests whose Host header names
// anything but this machine: localhost or a loopback address such as
// 127.0.0.1 or [::1], with any port. A server bound to a loopback address
// is reachable only from this machine, but a web page from elsewhere can
// still reach it through a name of its own that it points at 127.0.0.1
// (DNS rebinding); such requests carry that name in their Host header.
func loopbackOnly(h http.Handler, shown string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			http.Error(w, fmt.Sprintf("ppf serve: refused: the request is for host %q, but this server answers only requests for localhost, 127.0.0.1 or [::1] (a guard against DNS rebinding); open http://%s/", r.Host, shown), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether the Host header hostport is localhost or a
// loopback IP address, with or without a port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveFiles reads and checks the files the page opens with: a damaged
// file, one of another version, or an agent of another model than the
// predictor is refused here rather than in the browser.
func serveFiles(predPath, agentPath string) (web.Files, error) {
	if predPath == "" {
		if agentPath != "" {
			return web.Files{}, fmt.Errorf("--agent %s needs its predictor: add --predictor FILE", agentPath)
		}
		return web.Demo(), nil
	}
	// The note names the files without their directories: the page, and
	// anyone who can load it, need not learn the local paths.
	f := web.Files{Note: "Predictor " + filepath.Base(predPath)}
	var err error
	if f.Predictor, err = os.ReadFile(predPath); err != nil {
		return web.Files{}, err
	}
	p, err := predictor.Decode(bytes.NewReader(f.Predictor))
	if err != nil {
		return web.Files{}, fmt.Errorf("%s: %w", predPath, err)
	}
	if agentPath == "" {
		return f, nil
	}
	if f.Agent, err = os.ReadFile(agentPath); err != nil {
		return web.Files{}, err
	}
	a, err := agent.Decode(bytes.NewReader(f.Agent))
	if err != nil {
		return web.Files{}, fmt.Errorf("%s: %w", agentPath, err)
	}
	if err := a.Check(p.Space()); err != nil {
		return web.Files{}, fmt.Errorf("%s is not the agent of %s: %w", agentPath, predPath, err)
	}
	f.Note += ", agent " + filepath.Base(agentPath)
	return f, nil
}
