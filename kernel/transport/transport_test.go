package transport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignAndDecode(t *testing.T) {
	s := NewSigner("key")
	m, err := NewMessage("session", "execute_request", nil, map[string]string{"code": "1"})
	if err != nil {
		t.Fatal(err)
	}
	m.Identities = [][]byte{[]byte("client")}
	frames, err := s.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Decode(frames)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header != m.Header || string(got.Content) != `{"code":"1"}` || string(got.Identities[0]) != "client" || string(got.ParentHeader) != "{}" {
		t.Errorf("round trip: %+v", got)
	}
	// Any change to a signed frame, or another key, is caught.
	frames[len(frames)-1] = []byte(`{"code":"2"}`)
	if _, err := s.Decode(frames); err != ErrBadSignature {
		t.Errorf("tampered content: %v, want ErrBadSignature", err)
	}
	frames, _ = NewSigner("other").Encode(m)
	if _, err := s.Decode(frames); err != ErrBadSignature {
		t.Errorf("other key: %v, want ErrBadSignature", err)
	}
	// An empty key neither signs nor checks.
	frames, _ = NewSigner("").Encode(m)
	if len(frames[2]) != 0 {
		t.Errorf("unsigned message has signature %q", frames[2])
	}
	if _, err := NewSigner("").Decode(frames); err != nil {
		t.Error(err)
	}
	if _, err := s.Decode([][]byte{[]byte("no delimiter")}); err == nil {
		t.Error("a malformed message decoded")
	}
}

// The signature of a known message, as Jupyter's Python client computes
// it: hmac.new(b"key", header+parent+metadata+content, sha256).hexdigest().
func TestSignatureMatchesPython(t *testing.T) {
	got := string(NewSigner("key").Sign([]byte(`{"a":1}`), []byte("{}"), []byte("{}"), []byte(`{"b":2}`)))
	const want = "0206f42f4ae2a48f6054ab91271f90c100f7022f55fb1f23de6377624d533752"
	if got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.json")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	info, err := ReadConnectionFile(write(`{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "k", "signature_scheme": "hmac-sha256"}`))
	if err != nil {
		t.Fatal(err)
	}
	if info.IP != "127.0.0.1" || info.Transport != "tcp" || info.endpoint(info.ShellPort) != "tcp://127.0.0.1:1" {
		t.Errorf("defaults: %+v", info)
	}
	for _, bad := range []struct{ json, msg string }{
		{`{"transport": "ipc"}`, "use tcp"},
		{`{"signature_scheme": "hmac-md5"}`, "use hmac-sha256"},
		{`{"shell_port": 70000}`, "not a TCP port"},
		{`{`, "not valid JSON"},
	} {
		if _, err := ReadConnectionFile(write(bad.json)); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: error %v, want one saying %q", bad.json, err, bad.msg)
		}
	}
	if _, err := ReadConnectionFile(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "--connection-file") {
		t.Errorf("missing file: %v", err)
	}
}
