package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb/web"
)

// lockedBuffer is a bytes.Buffer safe to read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts `ppf serve args...` on a free loopback port and returns
// its URL; the server stops at the end of the test.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if c := <-code; c != 0 || !strings.Contains(out.String(), "stopped") {
			t.Errorf("ppf serve exited %d: %s %s", c, out.String(), errOut.String())
		}
	})
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	for range 200 {
		if u := re.FindString(out.String()); u != "" {
			return u
		}
		select {
		case c := <-code:
			t.Fatalf("ppf serve exited %d: %s", c, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("ppf serve printed no address: %q", out.String())
	return ""
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %s %v", url, resp.Status, err)
	}
	return b
}

func TestServe(t *testing.T) {
	demo := web.Demo()
	dir := t.TempDir()
	pred, ag := filepath.Join(dir, "m.predictor.json"), filepath.Join(dir, "m.agent.json")
	os.WriteFile(pred, demo.Predictor, 0o644)
	os.WriteFile(ag, demo.Agent, 0o644)

	u := serve(t, "--predictor", pred, "--agent", ag)
	if page := fetch(t, u); !bytes.Contains(page, []byte("ppf.js")) {
		t.Errorf("/ is not the page: %.200s", page)
	}
	if b := fetch(t, u+"agent.json"); !bytes.Equal(b, demo.Agent) {
		t.Error("/agent.json is not the agent file")
	}
	var cfg map[string]string
	if err := json.Unmarshal(fetch(t, u+"config.json"), &cfg); err != nil || cfg["predictor"] != "predictor.json" ||
		cfg["note"] != "Predictor m.predictor.json, agent m.agent.json" {
		t.Errorf("config %v %v", cfg, err)
	}
	if len(fetch(t, u+"ppf.wasm")) < 100000 {
		t.Error("ppf.wasm is too small")
	}

	// With no files: the demo.
	u = serve(t)
	if err := json.Unmarshal(fetch(t, u+"config.json"), &cfg); err != nil || cfg["note"] != web.DemoNote {
		t.Errorf("demo config %v %v", cfg, err)
	}
}

func TestServeRefuses(t *testing.T) {
	demo := web.Demo()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pred := write("p.json", string(demo.Predictor))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--predictor", write("bad.json", "{")}, "not a predictor file"},
		{[]string{"--predictor", write("v2.json", strings.Replace(string(demo.Predictor), `"version": 1`, `"version": 2`, 1))}, "version 2"},
		{[]string{"--predictor", pred, "--agent", write("other.json", strings.ReplaceAll(string(demo.Agent), `"stories260K-synthetic"`, `"llama-7b"`))}, "is not the agent of"},
		{[]string{"--agent", pred}, "needs its predictor"},
		{[]string{"--predictor", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--addr", "127.0.0.1:99999"}, "--addr"},
	} {
		_, errOut, code := ppf(t, append([]string{"serve"}, c.args...)...)
		if code != 1 || !strings.Contains(errOut, c.msg) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("ppf serve %v: exit %d, stderr %q; want 1 and one line with %q", c.args, code, errOut, c.msg)
		}
	}
	if _, _, code := ppf(t, "serve", "stray"); code != 2 {
		t.Errorf("a stray argument: exit %d, want 2", code)
	}
}

// TestServeConfigNoPaths checks that config.json, which any page that
// reaches the server can read, names the files without their directories.
func TestServeConfigNoPaths(t *testing.T) {
	demo := web.Demo()
	dir := filepath.Join(t.TempDir(), "secret-dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pred, ag := filepath.Join(dir, "m.predictor.json"), filepath.Join(dir, "m.agent.json")
	os.WriteFile(pred, demo.Predictor, 0o644)
	os.WriteFile(ag, demo.Agent, 0o644)
	cfg := fetch(t, serve(t, "--predictor", pred, "--agent", ag)+"config.json")
	if bytes.Contains(cfg, []byte("secret-dir")) || bytes.Contains(cfg, []byte(filepath.ToSlash(dir))) {
		t.Errorf("config.json shows the local directory: %s", cfg)
	}
	if !bytes.Contains(cfg, []byte("m.predictor.json")) || !bytes.Contains(cfg, []byte("m.agent.json")) {
		t.Errorf("config.json does not name the files: %s", cfg)
	}
}

// TestServeHostCheck checks the guard against DNS rebinding: a server on a
// loopback address answers only requests for localhost or a loopback IP.
func TestServeHostCheck(t *testing.T) {
	u := serve(t)
	port := u[strings.LastIndex(u, ":")+1 : len(u)-1]
	get := func(host string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", u+"config.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost", "127.0.0.1", "[::1]:" + port, "[::1]"} {
		if code, body := get(host); code != 200 {
			t.Errorf("Host %s: %d %q, want 200", host, code, body)
		}
	}
	for _, host := range []string{"evil.example", "evil.example:" + port, "localhost.evil.example:" + port, "127.0.0.1.nip.io"} {
		code, body := get(host)
		if code != http.StatusForbidden || !strings.Contains(body, "DNS rebinding") || !strings.Contains(body, host) {
			t.Errorf("Host %s: %d %q, want 403 naming the host and DNS rebinding", host, code, body)
		}
	}
}
