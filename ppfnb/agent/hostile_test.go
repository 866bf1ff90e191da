package agent

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// craftedHidden returns a saved untrained agent with config.hidden
// replaced by hidden (raw JSON).
func craftedHidden(t testing.TB, hidden string) []byte {
	t.Helper()
	s, _ := sensitive(t)
	a, err := newAgent(s, quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]json.RawMessage
	json.Unmarshal(f["config"], &cfg)
	cfg["hidden"] = json.RawMessage(hidden)
	f["config"], _ = json.Marshal(cfg)
	b, _ := json.Marshal(f)
	return b
}

// An agent file with a huge hidden width is refused with an error naming
// the field, before anything is allocated. Each case decodes in a child
// process, so that an unguarded allocation fails the test instead of
// killing the suite.
func TestDecodeHugeHidden(t *testing.T) {
	if path := os.Getenv("PPF_DECODE_CHILD"); path != "" {
		b, _ := os.ReadFile(path)
		msg := "<nil>"
		if _, err := Decode(bytes.NewReader(b)); err != nil {
			msg = err.Error()
		}
		os.Stdout.WriteString("DECODE-ERROR: " + msg + "\n")
		return
	}
	dir := t.TempDir()
	for _, tc := range []struct{ hidden, want string }{
		{"4611686018427387904", "config.hidden"},
		{"1000000000", "config.hidden"},
		{"65536", "values"}, // a legal width, but the weights present are those of the saved one
		{"0", "config.hidden"},
	} {
		path := dir + "/a.json"
		if err := os.WriteFile(path, craftedHidden(t, tc.hidden), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestDecodeHugeHidden$")
		cmd.Env = append(os.Environ(), "PPF_DECODE_CHILD="+path)
		out, err := cmd.CombinedOutput()
		s := string(out)
		if err != nil || !strings.Contains(s, "DECODE-ERROR: ") || !strings.Contains(s, tc.want) || strings.Contains(s, "DECODE-ERROR: <nil>") {
			t.Errorf("config.hidden %s: child %v; want a decoding error mentioning %q, got:\n%.600s", tc.hidden, err, tc.want, s)
		}
	}
}

// FuzzDecode checks that no agent file makes Decode, or a decoded
// agent's Policy, panic or allocate without bound. The seeds run with go
// test; go test -fuzz=FuzzDecode explores more.
func FuzzDecode(f *testing.F) {
	good := craftedHidden(f, "16")
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add(craftedHidden(f, "1e9"))
	f.Add(bytes.Replace(good, []byte(`"ratio_min"`), []byte(`"ratio_max"`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		lo, hi := a.Range()
		a.Policy((lo + hi) / 2)
	})
}
