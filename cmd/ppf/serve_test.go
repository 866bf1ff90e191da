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
	if err := json.Unmarshal(fetch(t, u+"config.json"), &cfg); err != nil || cfg["predictor"] != "predictor.json" || !strings.Contains(cfg["note"], pred) {
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
