//go:build js && wasm

package api

import (
	"errors"
	"strconv"
	"syscall/js"
	"unsafe"
)

// Install puts the API on obj (normally globalThis.ppf), bound to s:
//
//	loadPredictor(jsonText)  -> Promise<info>    the predictor file's text
//	loadAgent(jsonText)      -> Promise<info>    its agent's file (same model)
//	score(policy)            -> Promise<number>  predicted perplexity
//	scoreBatch(policies)     -> Promise<Float64Array> one perplexity each
//	evaluate(policy)         -> Promise<result>  snapped policy, ratio, perplexity
//	policyFor(ratio)         -> Promise<result>  the agent's policy
//	uniform(ratio)           -> Promise<result>  the uniform policy
//	unloadAgent(), reset()   -> Promise<undefined>
//
// A policy is {heads: [...], mlp: [...]}: per layer, the kept fraction
// of key/value groups and of MLP channels (arrays or Float64Arrays of
// numbers in [0, 1]), snapped to whole units; a layer whose two
// fractions are 0 is dropped. Every function returns a promise, rejected
// with an Error whose code property is one of the Code constants.
//
// The WebAssembly exports of export.go score for s too: ppf.js's loader
// puts them behind score and scoreBatch.
func Install(obj js.Value, s *Session) {
	fast = s
	b := binder{s: s, promise: js.Global().Get("Promise"), errorCtor: js.Global().Get("Error"),
		object: js.Global().Get("Object"), f64: js.Global().Get("Float64Array"), u8: js.Global().Get("Uint8Array")}
	set := func(name string, f func(args []js.Value) (js.Value, error)) {
		obj.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			v, err := f(args)
			if err != nil {
				return b.reject(err)
			}
			return b.promise.Call("resolve", v)
		}))
	}
	set("loadPredictor", b.loadPredictor)
	set("loadAgent", b.loadAgent)
	set("score", b.score)
	set("scoreBatch", b.scoreBatch)
	set("evaluate", b.evaluate)
	set("policyFor", func(args []js.Value) (js.Value, error) { return b.ratioCall(args, "policyFor", s.PolicyFor) })
	set("uniform", func(args []js.Value) (js.Value, error) { return b.ratioCall(args, "uniform", s.Uniform) })
	set("unloadAgent", func([]js.Value) (js.Value, error) { s.UnloadAgent(); return js.Undefined(), nil })
	set("reset", func([]js.Value) (js.Value, error) { s.Reset(); return js.Undefined(), nil })
}

type binder struct {
	s                                   *Session
	promise, errorCtor, object, f64, u8 js.Value
	heads, mlp                          []float64 // reused by score and scoreBatch
}

func (b *binder) reject(err error) js.Value {
	code := CodeMalformed
	var e *Error
	if errors.As(err, &e) {
		code = e.Code
	}
	jsErr := b.errorCtor.New(err.Error())
	jsErr.Set("code", code)
	return b.promise.Call("reject", jsErr)
}

func (b *binder) text(args []js.Value, fn string) ([]byte, error) {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return nil, errf(CodeBadArgument, "%s takes the file's text as a string (e.g. await file.text())", fn)
	}
	return []byte(args[0].String()), nil
}

func (b *binder) loadPredictor(args []js.Value) (js.Value, error) {
	t, err := b.text(args, "loadPredictor")
	if err != nil {
		return js.Value{}, err
	}
	in, err := b.s.LoadPredictor(t)
	if err != nil {
		return js.Value{}, err
	}
	layers := make([]any, len(in.Layers))
	for i, l := range in.Layers {
		layers[i] = map[string]any{"headUnits": l.HeadUnits, "mlpUnits": l.MLPUnits, "minHeadUnits": l.MinHeadUnits,
			"minMlpUnits": l.MinMLPUnits, "headUnitCost": l.HeadUnitCost, "mlpUnitCost": l.MLPUnitCost}
	}
	return js.ValueOf(map[string]any{"modelId": in.ModelID, "layers": layers, "params": in.Params, "maxRatio": in.MaxRatio,
		"arch": in.Arch, "trainN": in.TrainN, "valN": in.ValN, "valRMSE": in.ValRMSE, "densePerplexity": in.DensePerplexity}), nil
}

func (b *binder) loadAgent(args []js.Value) (js.Value, error) {
	t, err := b.text(args, "loadAgent")
	if err != nil {
		return js.Value{}, err
	}
	in, err := b.s.LoadAgent(t)
	if err != nil {
		return js.Value{}, err
	}
	return js.ValueOf(map[string]any{"modelId": in.ModelID, "ratioMin": in.RatioMin, "ratioMax": in.RatioMax}), nil
}

func (b *binder) score(args []js.Value) (js.Value, error) {
	if len(args) != 1 {
		return js.Value{}, errf(CodeBadArgument, "score takes one policy {heads: [...], mlp: [...]}")
	}
	if err := b.policy(args[0], ""); err != nil {
		return js.Value{}, err
	}
	ppl, err := b.s.Score(b.heads, b.mlp)
	if err != nil {
		return js.Value{}, err
	}
	return js.ValueOf(ppl), nil
}

func (b *binder) scoreBatch(args []js.Value) (js.Value, error) {
	if len(args) != 1 || !isArray(args[0]) {
		return js.Value{}, errf(CodeBadArgument, "scoreBatch takes an array of policies {heads: [...], mlp: [...]}")
	}
	n := args[0].Length()
	out := make([]float64, n)
	for i := range n {
		if err := b.policy(args[0].Index(i), "policy "+itoa(i)+": "); err != nil {
			return js.Value{}, err
		}
		ppl, err := b.s.Score(b.heads, b.mlp)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return js.Value{}, &Error{e.Code, errors.New("policy " + itoa(i) + ": " + e.Error())}
			}
			return js.Value{}, err
		}
		out[i] = ppl
	}
	return b.float64Array(out), nil
}

func (b *binder) evaluate(args []js.Value) (js.Value, error) {
	if len(args) != 1 {
		return js.Value{}, errf(CodeBadArgument, "evaluate takes one policy {heads: [...], mlp: [...]}")
	}
	if err := b.policy(args[0], ""); err != nil {
		return js.Value{}, err
	}
	r, err := b.s.Evaluate(b.heads, b.mlp)
	if err != nil {
		return js.Value{}, err
	}
	return b.result(r), nil
}

func (b *binder) ratioCall(args []js.Value, fn string, f func(float64) (Result, error)) (js.Value, error) {
	if len(args) != 1 || args[0].Type() != js.TypeNumber {
		return js.Value{}, errf(CodeBadArgument, "%s takes a ratio: a number, the fraction of prunable parameters to remove", fn)
	}
	r, err := f(args[0].Float())
	if err != nil {
		return js.Value{}, err
	}
	return b.result(r), nil
}

func (b *binder) result(r Result) js.Value {
	dropped := make([]any, len(r.Dropped))
	hu, mu := make([]any, len(r.HeadUnits)), make([]any, len(r.MLPUnits))
	for i := range r.Dropped {
		dropped[i], hu[i], mu[i] = r.Dropped[i], r.HeadUnits[i], r.MLPUnits[i]
	}
	heads, mlp := make([]any, len(r.Heads)), make([]any, len(r.MLP))
	for i := range r.Heads {
		heads[i], mlp[i] = r.Heads[i], r.MLP[i]
	}
	return js.ValueOf(map[string]any{"perplexity": r.Perplexity, "logPerplexity": r.LogPerplexity, "ratio": r.Ratio,
		"heads": heads, "mlp": mlp, "headUnits": hu, "mlpUnits": mu, "dropped": dropped})
}

// policy reads p.heads and p.mlp into b.heads and b.mlp.
func (b *binder) policy(p js.Value, where string) error {
	if p.Type() != js.TypeObject {
		return errf(CodeBadPolicy, "%sa policy is an object {heads: [...], mlp: [...]}, got %s", where, p.Type())
	}
	var err error
	if b.heads, err = b.numbers(p.Get("heads"), b.heads, where+"heads"); err != nil {
		return err
	}
	b.mlp, err = b.numbers(p.Get("mlp"), b.mlp, where+"mlp")
	return err
}

// numbers copies the array-like v of numbers into buf. Float64Arrays
// are copied in one step; other arrays element by element, each checked
// to be a number (NaN and the range are FromFractions' to refuse).
func (b *binder) numbers(v js.Value, buf []float64, what string) ([]float64, error) {
	if v.InstanceOf(b.f64) {
		n := v.Length()
		buf = grow(buf, n)
		js.CopyBytesToGo(asBytes(buf), b.u8.New(v.Get("buffer"), v.Get("byteOffset"), 8*n))
		return buf, nil
	}
	if !isArray(v) {
		return nil, errf(CodeBadPolicy, "%s must be an array of kept fractions, one per layer; got %s", what, v.Type())
	}
	n := v.Length()
	buf = grow(buf, n)
	for i := range n {
		x := v.Index(i)
		if x.Type() != js.TypeNumber {
			return nil, errf(CodeBadPolicy, "%s[%d] is %s, want a number in [0, 1]", what, i, x.Type())
		}
		buf[i] = x.Float()
	}
	return buf, nil
}

func (b *binder) float64Array(xs []float64) js.Value {
	a := b.f64.New(len(xs))
	js.CopyBytesToJS(b.u8.New(a.Get("buffer")), asBytes(xs))
	return a
}

// asBytes views xs as bytes: WebAssembly and JavaScript's typed arrays
// are both little-endian, so a Float64Array's bytes are xs's.
func asBytes(xs []float64) []byte {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), 8*len(xs))
}

func grow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

func itoa(i int) string { return strconv.Itoa(i) }

var arrayIsArray = js.Global().Get("Array").Get("isArray")

func isArray(v js.Value) bool { return arrayIsArray.Invoke(v).Bool() }
