package predictor

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// craftedArch returns a saved untrained predictor with arch.hidden
// replaced by hidden (raw JSON).
func craftedArch(t *testing.T, hidden string) []byte {
	t.Helper()
	p, err := newPredictor(storiesSpace(t), CNNArch(1), Norm{InMean: []float64{0, 0, 0}, InStd: []float64{1, 1, 1}, RatioStd: 1, OutStd: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	var arch map[string]json.RawMessage
	json.Unmarshal(f["arch"], &arch)
	arch["hidden"] = json.RawMessage(hidden)
	f["arch"], _ = json.Marshal(arch)
	b, _ := json.Marshal(f)
	return b
}

// A predictor file with huge architecture sizes is refused with an error
// naming the field, before anything is allocated: never a makeslice
// panic or an out-of-memory death. Each case decodes in a child process,
// so that an unguarded allocation fails the test instead of the suite.
func TestDecodeHugeArch(t *testing.T) {
	if path := os.Getenv("PPF_DECODE_CHILD"); path != "" {
		b, _ := os.ReadFile(path)
		_, err := Decode(bytes.NewReader(b))
		os.Stdout.WriteString("DECODE-ERROR: " + strings.ReplaceAll(errString(err), "\n", " ") + "\n")
		return
	}
	dir := t.TempDir()
	for _, tc := range []struct{ hidden, want string }{
		{"[4611686018427387904]", "arch.hidden"},
		{"[1000000000]", "arch.hidden"},
		{"[65536, 65536]", "parameters"},
		{"[0]", "arch.hidden"},
		{"[33]", "values"}, // sizes fine, but the weights present are those of [32]
	} {
		path := dir + "/p.json"
		if err := os.WriteFile(path, craftedArch(t, tc.hidden), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestDecodeHugeArch$")
		cmd.Env = append(os.Environ(), "PPF_DECODE_CHILD="+path)
		out, err := cmd.CombinedOutput()
		s := string(out)
		if err != nil || !strings.Contains(s, "DECODE-ERROR: ") || !strings.Contains(s, tc.want) || strings.Contains(s, "DECODE-ERROR: <nil>") {
			t.Errorf("arch.hidden %s: child %v; want a decoding error mentioning %q, got:\n%.600s", tc.hidden, err, tc.want, s)
		}
	}
}

// errString prints an error or "<nil>".
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
