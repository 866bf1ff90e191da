// Package api is the browser build's JavaScript API without the
// JavaScript: a Session holds a loaded predictor (and agent) and answers
// in plain Go values, and js.go (GOOS=js only) binds it to a JavaScript
// object as promise-returning functions. Keeping the two apart lets the
// same logic be tested natively and under Node.
package api

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Error codes, the "code" property of a rejected promise's Error.
const (
	CodeNoPredictor = "no-predictor" // scoring before loadPredictor
	CodeNoAgent     = "no-agent"     // policyFor before loadAgent
	CodeMalformed   = "malformed"    // not JSON, not a predictor/agent file, or damaged
	CodeMismatch    = "mismatch"     // another format version, or another model than the one loaded
	CodeBadPolicy   = "bad-policy"   // wrong length, a value outside [0, 1], not a number
	CodeOutOfRange  = "out-of-range" // a ratio the agent was not trained for, or that cannot be reached
	CodeBadArgument = "bad-argument" // an argument of the wrong JavaScript type
	CodeNotFinite   = "not-finite"   // the predictor gave NaN or an infinite perplexity
)

// Error is an error with a code for JavaScript.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// LayerInfo is one layer of the predictor's Space.
type LayerInfo struct {
	HeadUnits, MLPUnits       int
	MinHeadUnits, MinMLPUnits int
	HeadUnitCost, MLPUnitCost int
}

// PredictorInfo describes a loaded predictor.
type PredictorInfo struct {
	ModelID         string
	Layers          []LayerInfo
	Params          int     // prunable parameters of the dense model
	MaxRatio        float64 // largest ratio without dropping layers
	Arch            string  // "cnn k=1", "mlp"
	TrainN, ValN    int     // records it was trained and validated on
	ValRMSE         float64 // validation RMSE of log-perplexity
	DensePerplexity float64 // predicted for the dense model
}

// AgentInfo describes a loaded agent.
type AgentInfo struct {
	ModelID            string
	RatioMin, RatioMax float64
}

// Result is a snapped policy with its prediction.
type Result struct {
	Perplexity    float64
	LogPerplexity float64
	Ratio         float64   // global ratio: fraction of the prunable parameters removed
	Heads, MLP    []float64 // kept fractions after snapping to whole units (0 for a dropped layer)
	HeadUnits     []int     // key/value groups kept per layer
	MLPUnits      []int     // MLP channels kept per layer
	Dropped       []bool
}

// Session is one loaded predictor and, optionally, its agent. Not safe
// for concurrent use (JavaScript calls it from one thread).
type Session struct {
	pred  *predictor.Predictor
	agent *agent.Agent
}

// LoadPredictor replaces the predictor with the one in the JSON text b.
// The session is unchanged on error: a malformed file (CodeMalformed),
// one of another format version, or one for another model than the
// loaded agent (CodeMismatch).
func (s *Session) LoadPredictor(b []byte) (PredictorInfo, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return PredictorInfo{}, errf(CodeMalformed, "the predictor file is empty; pick the .json file that predictor.Save or ppf wrote")
	}
	p, err := predictor.Decode(bytes.NewReader(b))
	if err != nil {
		return PredictorInfo{}, classify(err)
	}
	if s.agent != nil {
		if err := p.Check(s.agent.Space()); err != nil {
			return PredictorInfo{}, &Error{CodeMismatch, fmt.Errorf("the loaded agent is for model %q: %w; load this predictor together with its own agent",
				s.agent.Space().ModelID, err)}
		}
	}
	dense, err := p.Perplexity(p.Space().Dense())
	if err != nil {
		return PredictorInfo{}, classify(err)
	}
	if !finite(dense) {
		return PredictorInfo{}, errf(CodeNotFinite, "the predictor gives a perplexity of %v for the dense model; the file is damaged or the predictor diverged: retrain it", dense)
	}
	s.pred = p
	return s.info(dense), nil
}

func (s *Session) info(dense float64) PredictorInfo {
	sp := s.pred.Space()
	in := PredictorInfo{ModelID: sp.ModelID, Layers: make([]LayerInfo, len(sp.Layers)), Params: sp.Params(), MaxRatio: sp.MaxRatio(),
		DensePerplexity: dense}
	for i, l := range sp.Layers {
		in.Layers[i] = LayerInfo{l.HeadUnits, l.MLPUnits, l.MinHeadUnits, l.MinMLPUnits, l.HeadUnitCost, l.MLPUnitCost}
	}
	a := s.pred.Arch()
	in.Arch = a.Kind
	if a.Kind == "cnn" {
		in.Arch = fmt.Sprintf("cnn k=%d", a.Kernel)
	}
	sum := s.pred.Summary()
	in.TrainN, in.ValN, in.ValRMSE = sum.TrainN, sum.ValN, sum.ValRMSE
	return in
}

// LoadAgent replaces the agent with the one in the JSON text b, which
// must be for the loaded predictor's model and Space.
func (s *Session) LoadAgent(b []byte) (AgentInfo, error) {
	if s.pred == nil {
		return AgentInfo{}, errf(CodeNoPredictor, "load a predictor before its agent")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return AgentInfo{}, errf(CodeMalformed, "the agent file is empty; pick the .json file that agent.Save wrote")
	}
	a, err := agent.Decode(bytes.NewReader(b))
	if err != nil {
		return AgentInfo{}, classify(err)
	}
	if err := a.Check(s.pred.Space()); err != nil {
		return AgentInfo{}, classify(err)
	}
	s.agent = a
	lo, hi := a.Range()
	return AgentInfo{ModelID: a.Space().ModelID, RatioMin: lo, RatioMax: hi}, nil
}

// Reset unloads the predictor and the agent.
func (s *Session) Reset() { s.pred, s.agent = nil, nil }

// UnloadAgent unloads the agent only.
func (s *Session) UnloadAgent() { s.agent = nil }

// HasAgent reports whether an agent is loaded.
func (s *Session) HasAgent() bool { return s.agent != nil }

// Score returns the predicted perplexity of the policy that keeps the
// given fractions of each layer's key/value groups and MLP channels,
// snapped to whole units as predictor.Space.FromFractions does (both 0:
// the layer is dropped).
func (s *Session) Score(heads, mlp []float64) (float64, error) {
	pol, err := s.snap(heads, mlp)
	if err != nil {
		return 0, err
	}
	return s.perplexity(pol)
}

// Evaluate is Score with the snapped policy and its global ratio.
func (s *Session) Evaluate(heads, mlp []float64) (Result, error) {
	pol, err := s.snap(heads, mlp)
	if err != nil {
		return Result{}, err
	}
	return s.result(pol)
}

// PolicyFor returns the agent's policy for ratio with its prediction.
func (s *Session) PolicyFor(ratio float64) (Result, error) {
	if s.pred == nil {
		return Result{}, errf(CodeNoPredictor, "no predictor loaded; call loadPredictor first")
	}
	if s.agent == nil {
		return Result{}, errf(CodeNoAgent, "no agent loaded; call loadAgent with the agent file saved beside the predictor")
	}
	if !finite(ratio) {
		return Result{}, errf(CodeBadArgument, "the ratio must be a number, got %v", ratio)
	}
	pol, err := s.agent.Policy(ratio)
	if err != nil {
		return Result{}, classify(err)
	}
	return s.result(pol)
}

// Uniform returns the uniform policy for ratio (every layer pruned alike,
// see predictor.Space.Uniform) with its prediction.
func (s *Session) Uniform(ratio float64) (Result, error) {
	if s.pred == nil {
		return Result{}, errf(CodeNoPredictor, "no predictor loaded; call loadPredictor first")
	}
	if !(ratio >= 0 && ratio <= 1) {
		return Result{}, errf(CodeOutOfRange, "ratio %v must lie in [0, 1]", ratio)
	}
	pol, err := s.pred.Space().Uniform(ratio)
	if err != nil {
		return Result{}, classify(err)
	}
	return s.result(pol)
}

func (s *Session) snap(heads, mlp []float64) (predictor.Policy, error) {
	if s.pred == nil {
		return predictor.Policy{}, errf(CodeNoPredictor, "no predictor loaded; call loadPredictor first")
	}
	pol, err := s.pred.Space().FromFractions(heads, mlp)
	if err != nil {
		return predictor.Policy{}, classify(err)
	}
	return pol, nil
}

func (s *Session) perplexity(pol predictor.Policy) (float64, error) {
	y, err := s.pred.Score(pol)
	if err != nil {
		return 0, classify(err)
	}
	ppl := math.Exp(y)
	if !finite(ppl) {
		return 0, errf(CodeNotFinite, "the predicted log-perplexity is %v (perplexity %v); the predictor is extrapolating far outside its training data", y, ppl)
	}
	return ppl, nil
}

func (s *Session) result(pol predictor.Policy) (Result, error) {
	ppl, err := s.perplexity(pol)
	if err != nil {
		return Result{}, err
	}
	sp := s.pred.Space()
	L := len(sp.Layers)
	r := Result{Perplexity: ppl, LogPerplexity: math.Log(ppl), Ratio: sp.Ratio(pol),
		HeadUnits: make([]int, L), MLPUnits: make([]int, L), Dropped: make([]bool, L)}
	r.Heads, r.MLP = sp.Fractions(pol)
	for i, lp := range pol.Layers {
		r.HeadUnits[i], r.MLPUnits[i], r.Dropped[i] = lp.HeadUnits, lp.MLPUnits, lp.Drop
	}
	return r, nil
}

// classify gives an error of the predictor or agent packages its code.
func classify(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, predictor.ErrMismatch):
		return &Error{CodeMismatch, err}
	case errors.Is(err, predictor.ErrBadPolicy):
		return &Error{CodeBadPolicy, err}
	case errors.Is(err, agent.ErrOutOfRange), errors.Is(err, predictor.ErrUnreachable):
		return &Error{CodeOutOfRange, err}
	}
	return &Error{CodeMalformed, err}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
