//go:build !js

package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/ppfnb/web"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandler(t *testing.T) {
	demo := web.Demo()
	h := web.Handler(demo)
	for path, ctype := range map[string]string{"/": "text/html", "/ppf.js": "text/javascript", "/ppf.css": "text/css",
		"/wasm_exec.js": "text/javascript", "/predictor.json": "application/json", "/agent.json": "application/json"} {
		r := get(t, h, path)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) || len(body(t, r)) == 0 {
			t.Errorf("%s: %s %q", path, r.Status, r.Header.Get("Content-Type"))
		}
	}
	if b := body(t, get(t, h, "/predictor.json")); !bytes.Equal(b, demo.Predictor) {
		t.Error("/predictor.json is not the predictor file")
	}
	var cfg map[string]string
	if err := json.Unmarshal(body(t, get(t, h, "/config.json")), &cfg); err != nil || cfg["predictor"] != "predictor.json" ||
		cfg["agent"] != "agent.json" || cfg["note"] != web.DemoNote {
		t.Errorf("config %v, %v", cfg, err)
	}

	// The wasm: gzip-encoded when accepted, plain otherwise, the same bytes.
	gz := get(t, h, "/ppf.wasm", "Accept-Encoding", "gzip, deflate, br")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("ppf.wasm headers %v", gz.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body(t, gz)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	plain := body(t, get(t, h, "/ppf.wasm"))
	if !bytes.Equal(unzipped, plain) || !bytes.HasPrefix(plain, []byte("\x00asm")) {
		t.Errorf("ppf.wasm: %d bytes gunzipped, %d plain", len(unzipped), len(plain))
	}
	t.Logf("ppf.wasm: %d bytes, %d served gzip-compressed", len(plain), len(web.WasmGzip()))

	// Revalidation costs a 304.
	r := get(t, h, "/ppf.js")
	if r2 := get(t, h, "/ppf.js", "If-None-Match", r.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %s", r2.Status)
	}
	if r := get(t, h, "/ppf.wasm.gz"); r.StatusCode != http.StatusNotFound {
		t.Errorf("/ppf.wasm.gz: %s; only the listed files are served", r.Status)
	}

	// No predictor: the page waits for one.
	cfg = nil
	if err := json.Unmarshal(body(t, get(t, web.Handler(web.Files{}), "/config.json")), &cfg); err != nil || cfg["predictor"] != "" {
		t.Errorf("config without files: %v", cfg)
	}
	if r := get(t, web.Handler(web.Files{}), "/predictor.json"); r.StatusCode != http.StatusNotFound {
		t.Errorf("/predictor.json without one: %s", r.Status)
	}
}

func TestInlineHTML(t *testing.T) {
	f := web.Demo()
	f.Predictor = append(f.Predictor[:len(f.Predictor):len(f.Predictor)], []byte(" </script><b>")...) // must not end the script
	html := web.InlineHTML(f, "t1")
	if n := strings.Count(html, "<script>"); n != 3 || strings.Count(html, "</script>") != 3 {
		t.Errorf("%d scripts opened, %d closed; want 3", n, strings.Count(html, "</script>"))
	}
	if !strings.Contains(html, `id="ppf-t1"`) || !strings.Contains(html, `"ppf_t1"`) || !strings.Contains(html, "globalThis.Go = class") {
		t.Error("the fragment lacks its element, its API name or wasm_exec.js")
	}
	m := regexp.MustCompile(`ppfGunzipBase64\("([A-Za-z0-9+/=]+)"\)`).FindStringSubmatch(html)
	if m == nil || len(m[1]) < len(web.WasmGzip()) {
		t.Error("the fragment lacks the wasm")
	}
	t.Logf("widget HTML: %d bytes", len(html))
}
