package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// countingBackend is the CPU engine under another name, counting the
// models loaded on it: it shows that a command took the backend path.
type countingBackend struct{ loads *int }

func (countingBackend) Name() string { return "test-counting" }

func (b countingBackend) Load(m *native.Model) (native.Evaluator, error) {
	*b.loads++
	cpu, _ := native.GetBackend("cpu")
	return cpu.Load(m)
}

var countingLoads int

func init() { native.RegisterBackend(countingBackend{loads: &countingLoads}) }

// eval and prune --eval give the CPU engine's perplexity through a
// backend, and load the model there once.
func TestCommandsOnBackend(t *testing.T) {
	perplexity := func(args ...string) float64 {
		t.Helper()
		out, errOut, code := ppf(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var r struct {
			Perplexity float64 `json:"perplexity"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Perplexity == 0 {
			t.Fatalf("%v: %v in %q", args, err, out)
		}
		return r.Perplexity
	}
	for _, args := range [][]string{
		{"eval", "--model", "stories260K", "--seqlen", "256", "--max-tokens", "4096"},
		{"prune", "--model", "stories260K", "--method", "flap", "--ratio", "0.3", "--eval", defaultCalib, "--max-tokens", "4096"},
	} {
		before := countingLoads
		want, got := perplexity(args...), perplexity(append(args, "--backend", "test-counting")...)
		if countingLoads != before+1 {
			t.Errorf("%s: %d models loaded on the backend, want 1", args[0], countingLoads-before)
		}
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: perplexity %v on the backend, %v on the engine", args[0], got, want)
		}
	}
	// ppf speed loads the dense and the sliced model there, and measures
	// decoding on the CPU engine only.
	before := countingLoads
	out, errOut, code := ppf(t, "speed", "--repeat", "1", "--tokens", "1024", "--backend", "test-counting")
	if code != 0 || countingLoads != before+2 || !strings.Contains(out, "eval on test-counting (decoding is measured on the CPU engine only)") {
		t.Errorf("speed on a backend: exit %d, %d loads, stdout %q, stderr %q", code, countingLoads-before, out, errOut)
	}
	if _, errOut, code := ppf(t, "prune", "--ratio", "0.3", "--backend", "gpu"); code == 0 || !strings.Contains(errOut, `unknown backend "gpu"`) {
		t.Errorf("prune --backend gpu: exit %d, %q", code, errOut)
	}
}
