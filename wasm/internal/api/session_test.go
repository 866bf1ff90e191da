package api

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// The demo files of package web and the native predictions made from
// them by go generate (wasm/internal/gen). These tests run natively and
// under Node (GOOS=js GOARCH=wasm), where they check the WebAssembly
// build against the native numbers.
const (
	demoPredictor = "../../../ppfnb/web/demo/stories260K-synthetic.predictor.json"
	demoAgent     = "../../../ppfnb/web/demo/stories260K-synthetic.agent.json"
)

type golden struct {
	Name       string    `json:"name"`
	Heads      []float64 `json:"heads"`
	MLP        []float64 `json:"mlp"`
	Ratio      float64   `json:"ratio"`
	Perplexity float64   `json:"perplexity"`
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goldens(t testing.TB) []golden {
	var gs []golden
	if err := json.Unmarshal(read(t, "testdata/golden.json"), &gs); err != nil {
		t.Fatal(err)
	}
	return gs
}

func loaded(t testing.TB, withAgent bool) *Session {
	t.Helper()
	s := &Session{}
	if _, err := s.LoadPredictor(read(t, demoPredictor)); err != nil {
		t.Fatal(err)
	}
	if withAgent {
		if _, err := s.LoadAgent(read(t, demoAgent)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func relDiff(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }

// The tolerance the browser build promises is 1e-5 relative; the same
// Go code gives far closer numbers (exp may differ in the last bit).
const tol = 1e-12

func TestGolden(t *testing.T) {
	s := loaded(t, true)
	worst := 0.0
	for _, g := range goldens(t) {
		r, err := s.Evaluate(g.Heads, g.MLP)
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		ppl, err := s.Score(g.Heads, g.MLP)
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if ppl != r.Perplexity {
			t.Errorf("%s: Score %v, Evaluate %v", g.Name, ppl, r.Perplexity)
		}
		if d := relDiff(ppl, g.Perplexity); d > tol || math.Abs(r.Ratio-g.Ratio) > tol {
			t.Errorf("%s: perplexity %v ratio %v, native %v and %v (relative difference %.2g); if the predictor changed, run go generate ./wasm/...",
				g.Name, ppl, r.Ratio, g.Perplexity, g.Ratio, d)
		}
		worst = max(worst, relDiff(ppl, g.Perplexity))
	}
	t.Logf("largest relative difference from the native predictions: %.3g", worst)
}

func TestAgentPolicy(t *testing.T) {
	s := loaded(t, true)
	for _, g := range goldens(t) {
		var ratio float64
		if n, ok := strings.CutPrefix(g.Name, "agent "); ok {
			if err := json.Unmarshal([]byte(n), &ratio); err != nil {
				t.Fatal(err)
			}
		} else {
			continue
		}
		r, err := s.PolicyFor(ratio)
		if err != nil {
			t.Fatal(err)
		}
		if relDiff(r.Perplexity, g.Perplexity) > tol || math.Abs(r.Ratio-ratio) > 0.01 {
			t.Errorf("agent at %v: perplexity %v, ratio %v; native %v", ratio, r.Perplexity, r.Ratio, g.Perplexity)
		}
		// Its fractions, passed back, are the same policy.
		again, err := s.Evaluate(r.Heads, r.MLP)
		if err != nil || again.Perplexity != r.Perplexity {
			t.Errorf("agent at %v: re-evaluated %v (%v), want %v", ratio, again.Perplexity, err, r.Perplexity)
		}
	}
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "none"
}

func TestBadInput(t *testing.T) {
	pred, ag := string(read(t, demoPredictor)), string(read(t, demoAgent))
	other := strings.ReplaceAll(ag, `"stories260K-synthetic"`, `"llama-7b"`)
	version := strings.Replace(pred, `"version": 1`, `"version": 7`, 1)
	ones, half := []float64{1, 1, 1, 1, 1}, []float64{.5, .5, .5, .5, .5}
	cases := []struct {
		name string
		run  func(s *Session) error
		code string
		msg  string
	}{
		{"empty file", func(s *Session) error { _, err := s.LoadPredictor([]byte(" \n")); return err }, CodeMalformed, "empty"},
		{"not JSON", func(s *Session) error { _, err := s.LoadPredictor([]byte("{not json")); return err }, CodeMalformed, "not a predictor file"},
		{"truncated", func(s *Session) error { _, err := s.LoadPredictor([]byte(pred[:len(pred)/2])); return err }, CodeMalformed, "not a predictor file"},
		{"other JSON", func(s *Session) error { _, err := s.LoadPredictor([]byte(`{"a": 1}`)); return err }, CodeMismatch, "is this a predictor file"},
		{"agent as predictor", func(s *Session) error { _, err := s.LoadPredictor([]byte(ag)); return err }, CodeMismatch, `format "ppf-agent"`},
		{"version", func(s *Session) error { _, err := s.LoadPredictor([]byte(version)); return err }, CodeMismatch, "version 7"},
		{"agent of another model", func(s *Session) error { _, err := s.LoadAgent([]byte(other)); return err }, CodeMismatch, `"llama-7b"`},
		{"predictor as agent", func(s *Session) error { _, err := s.LoadAgent([]byte(pred)); return err }, CodeMismatch, "is this an agent file"},
		{"short policy", func(s *Session) error { _, err := s.Score([]float64{1}, []float64{1}); return err }, CodeBadPolicy, "5 layers"},
		{"above 1", func(s *Session) error { _, err := s.Score([]float64{1, 1, 1.5, 1, 1}, ones); return err }, CodeBadPolicy, "layer 2"},
		{"negative", func(s *Session) error { _, err := s.Score(ones, []float64{1, 1, 1, 1, -0.1}); return err }, CodeBadPolicy, "layer 4"},
		{"NaN", func(s *Session) error { _, err := s.Score(ones, []float64{1, math.NaN(), 1, 1, 1}); return err }, CodeBadPolicy, "NaN"},
		{"ratio outside the agent's range", func(s *Session) error { _, err := s.PolicyFor(0.95); return err }, CodeOutOfRange, "trained for"},
		{"uniform beyond 1", func(s *Session) error { _, err := s.Uniform(1.5); return err }, CodeOutOfRange, "[0, 1]"},
	}
	for _, c := range cases {
		s := loaded(t, true)
		want, _ := s.Score(half, half)
		err := c.run(s)
		if err == nil || code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q (code %s), want code %s and a message with %q", c.name, err, code(err), c.code, c.msg)
		}
		// A refused file or policy changes nothing.
		if got, err := s.Score(half, half); err != nil || got != want || !s.HasAgent() {
			t.Errorf("%s: afterwards score %v (%v), agent %v; want %v and the agent kept", c.name, got, err, s.HasAgent(), want)
		}
	}

	var s Session
	if _, err := s.Score(ones, ones); code(err) != CodeNoPredictor {
		t.Errorf("score with no predictor: %v", err)
	}
	if _, err := s.LoadAgent([]byte(ag)); code(err) != CodeNoPredictor {
		t.Errorf("agent with no predictor: %v", err)
	}
	if _, err := loaded(t, false).PolicyFor(0.4); code(err) != CodeNoAgent {
		t.Errorf("policyFor with no agent: %v", err)
	}
	// A predictor of another model than the loaded agent is refused.
	s2 := loaded(t, true)
	if _, err := s2.LoadPredictor([]byte(strings.ReplaceAll(pred, `"stories260K-synthetic"`, `"llama-7b"`))); code(err) != CodeMismatch {
		t.Errorf("predictor of another model than the agent: %v", err)
	}
	s2.UnloadAgent()
	if in, err := s2.LoadPredictor([]byte(strings.ReplaceAll(pred, `"stories260K-synthetic"`, `"llama-7b"`))); err != nil || in.ModelID != "llama-7b" {
		t.Errorf("after UnloadAgent: %v, %v", in.ModelID, err)
	}
}

func TestInfo(t *testing.T) {
	s := &Session{}
	in, err := s.LoadPredictor(read(t, demoPredictor))
	if err != nil {
		t.Fatal(err)
	}
	if in.ModelID != "stories260K-synthetic" || len(in.Layers) != 5 || in.Layers[0].HeadUnits != 4 || in.Layers[0].MLPUnits != 172 ||
		in.Arch != "cnn k=1" || in.TrainN == 0 || !(in.DensePerplexity > 1) || !(in.MaxRatio > 0.9 && in.MaxRatio < 1) {
		t.Errorf("info %+v", in)
	}
	ai, err := s.LoadAgent(read(t, demoAgent))
	if err != nil || ai.RatioMin != 0.05 || ai.RatioMax != 0.7 {
		t.Errorf("agent info %+v, %v", ai, err)
	}
	// A dropped layer: both fractions 0.
	r, err := s.Evaluate([]float64{1, 1, 0, 1, 1}, []float64{1, 1, 0, 1, 1})
	if err != nil || !r.Dropped[2] || r.HeadUnits[2] != 0 || r.Ratio <= 0.15 {
		t.Errorf("dropped layer: %+v, %v", r, err)
	}
}

// BenchmarkSessionScore is the cost of one prediction without any
// JavaScript: natively, or under Node with GOOS=js GOARCH=wasm.
func BenchmarkSessionScore(b *testing.B) {
	s := loaded(b, false)
	g := goldens(b)[1]
	for b.Loop() {
		if _, err := s.Score(g.Heads, g.MLP); err != nil {
			b.Fatal(err)
		}
	}
}
