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
func craftedArch(t testing.TB, hidden string) []byte {
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

// FuzzDecode checks that no predictor file makes Decode, or a decoded
// predictor's Score, panic or allocate without bound. The seeds (a real
// saved predictor and damaged copies) run with go test; go test
// -fuzz=FuzzDecode explores more.
func FuzzDecode(f *testing.F) {
	good := craftedArch(f, "[8]")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(bytes.Replace(good, []byte(`"layers"`), []byte(`"layerz"`), 1))
	f.Add(craftedArch(f, "[1e9]"))
	f.Add([]byte(`{"arch":{"kind":"cnn","hidden":[-1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		pol := p.Space().Dense()
		p.Score(pol)
	})
}

// FuzzReadJSONL checks that no dataset text makes ReadJSONL panic, and
// that what it accepts passes Check record by record.
func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte(`{"model_id":"m","layers":[{"head_units":1,"mlp_units":2}],"ratio":0.1,"perplexity":3,"nll":1.0986,"tokens":10}` + "\n"))
	f.Add([]byte("{\"model_id\":\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"model_id":"m","perplexity":-1,"nll":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadJSONL(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, r := range d {
			if err := r.Check(); err != nil {
				t.Errorf("record %d accepted by ReadJSONL fails Check: %v", i, err)
			}
		}
	})
}
