//go:build js && wasm

package api

import (
	"math"
	"strings"
	"syscall/js"
	"testing"
)

// These tests call the API as JavaScript does, through a fresh object
// with Install, under Node: run them with
//
//	PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test ./wasm/...

// await waits for promise p and returns its value or its rejection.
func await(p js.Value) (val, rejected js.Value) {
	ch := make(chan [2]js.Value, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- [2]js.Value{a[0], js.Null()}; return nil })
	bad := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- [2]js.Value{js.Undefined(), a[0]}; return nil })
	defer ok.Release()
	defer bad.Release()
	p.Call("then", ok, bad)
	r := <-ch
	return r[0], r[1]
}

func call(t testing.TB, obj js.Value, fn string, args ...any) js.Value {
	t.Helper()
	v, rej := await(obj.Call(fn, args...))
	if !rej.IsNull() {
		t.Fatalf("%s rejected: %s (code %s)", fn, rej.Get("message"), rej.Get("code"))
	}
	return v
}

func installed(t testing.TB, withAgent bool) js.Value {
	t.Helper()
	obj := js.Global().Get("Object").New()
	Install(obj, &Session{})
	call(t, obj, "loadPredictor", string(read(t, demoPredictor)))
	if withAgent {
		call(t, obj, "loadAgent", string(read(t, demoAgent)))
	}
	return obj
}

func floats(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func policy(g golden) js.Value {
	return js.ValueOf(map[string]any{"heads": floats(g.Heads), "mlp": floats(g.MLP)})
}

func TestJSGolden(t *testing.T) {
	obj := installed(t, true)
	gs := goldens(t)
	batch := make([]any, len(gs))
	for i, g := range gs {
		batch[i] = policy(g)
		ppl := call(t, obj, "score", policy(g)).Float()
		if relDiff(ppl, g.Perplexity) > tol {
			t.Errorf("%s: score %v, native %v", g.Name, ppl, g.Perplexity)
		}
		r := call(t, obj, "evaluate", policy(g))
		if r.Get("perplexity").Float() != ppl || math.Abs(r.Get("ratio").Float()-g.Ratio) > tol || r.Get("heads").Length() != 5 {
			t.Errorf("%s: evaluate gives perplexity %v, ratio %v", g.Name, r.Get("perplexity"), r.Get("ratio"))
		}
	}
	out := call(t, obj, "scoreBatch", js.ValueOf(batch))
	if !out.InstanceOf(js.Global().Get("Float64Array")) || out.Length() != len(gs) {
		t.Fatalf("scoreBatch gives %v", out)
	}
	for i, g := range gs {
		if got := out.Index(i).Float(); relDiff(got, g.Perplexity) > tol {
			t.Errorf("%s: scoreBatch %v, native %v", g.Name, got, g.Perplexity)
		}
	}
	// Float64Arrays are accepted as well as arrays.
	f64 := js.Global().Get("Float64Array")
	g := gs[1]
	typed := js.ValueOf(map[string]any{"heads": f64.Call("from", js.ValueOf(floats(g.Heads))), "mlp": f64.Call("from", js.ValueOf(floats(g.MLP)))})
	if got := call(t, obj, "score", typed).Float(); relDiff(got, g.Perplexity) > tol {
		t.Errorf("Float64Array policy: %v, native %v", got, g.Perplexity)
	}
}

func TestJSAgent(t *testing.T) {
	obj := installed(t, true)
	r := call(t, obj, "policyFor", 0.3)
	for _, g := range goldens(t) {
		if g.Name == "agent 0.30" && relDiff(r.Get("perplexity").Float(), g.Perplexity) > tol {
			t.Errorf("policyFor(0.3): %v, native %v", r.Get("perplexity"), g.Perplexity)
		}
	}
	if n := r.Get("headUnits").Length(); n != 5 || r.Get("dropped").Index(0).Bool() {
		t.Errorf("policyFor result %v", js.Global().Get("JSON").Call("stringify", r))
	}
	u := call(t, obj, "uniform", 0.3)
	if math.Abs(u.Get("ratio").Float()-0.3) > 0.01 {
		t.Errorf("uniform(0.3) removes %v", u.Get("ratio"))
	}
	call(t, obj, "unloadAgent")
	if _, rej := await(obj.Call("policyFor", 0.3)); rej.IsNull() || rej.Get("code").String() != CodeNoAgent {
		t.Errorf("policyFor after unloadAgent: %v", rej)
	}
}

func TestJSRejections(t *testing.T) {
	obj := installed(t, true)
	pred := string(read(t, demoPredictor))
	arr := func(xs ...any) any { return xs }
	pol := func(h, m any) any { return map[string]any{"heads": h, "mlp": m} }
	ones := arr(1.0, 1.0, 1.0, 1.0, 1.0)
	cases := []struct {
		fn   string
		arg  any
		code string
		msg  string
	}{
		{"loadPredictor", "{", CodeMalformed, "not a predictor file"},
		{"loadPredictor", 42, CodeBadArgument, "file's text as a string"},
		{"loadPredictor", strings.Replace(pred, `"version": 1`, `"version": 2`, 1), CodeMismatch, "version 2"},
		{"loadAgent", pred, CodeMismatch, "is this an agent file"},
		{"score", pol(arr(1.0, 1.0), ones), CodeBadPolicy, "5 layers"},
		{"score", pol(ones, arr(1.0, 1.0, 2.0, 1.0, 1.0)), CodeBadPolicy, "[0, 1]"},
		{"score", pol(ones, arr(1.0, 1.0, "0.5", 1.0, 1.0)), CodeBadPolicy, "mlp[2] is string"},
		{"score", pol(ones, arr(1.0, 1.0, nil, 1.0, 1.0)), CodeBadPolicy, "mlp[2] is null"},
		{"score", pol(ones, arr(1.0, 1.0, math.NaN(), 1.0, 1.0)), CodeBadPolicy, "NaN"},
		{"score", pol(ones, nil), CodeBadPolicy, "mlp must be an array"},
		{"score", "policy", CodeBadPolicy, "a policy is an object"},
		{"scoreBatch", arr(pol(ones, ones), pol(ones, arr(1.0))), CodeBadPolicy, "policy 1: "},
		{"scoreBatch", pol(ones, ones), CodeBadArgument, "array of policies"},
		{"policyFor", 0.99, CodeOutOfRange, "trained for"},
		{"policyFor", "0.5", CodeBadArgument, "takes a ratio"},
	}
	for _, c := range cases {
		v, rej := await(obj.Call(c.fn, c.arg))
		if rej.IsNull() {
			t.Errorf("%s(%v) resolved to %v, want a rejection", c.fn, c.arg, v)
			continue
		}
		if !rej.InstanceOf(js.Global().Get("Error")) || rej.Get("code").String() != c.code || !strings.Contains(rej.Get("message").String(), c.msg) {
			t.Errorf("%s(%v) rejected with %q (code %v), want code %s and %q", c.fn, c.arg, rej.Get("message"), rej.Get("code"), c.code, c.msg)
		}
	}
	// Nothing was replaced: the predictor and agent still answer.
	if ppl := call(t, obj, "score", js.ValueOf(pol(ones, ones))).Float(); !(ppl > 1) {
		t.Errorf("dense perplexity after the rejections: %v", ppl)
	}
	call(t, obj, "policyFor", 0.5)
}

func BenchmarkJSScore(b *testing.B) {
	obj := installed(b, false)
	p := policy(goldens(b)[1])
	b.ResetTimer()
	for range b.N {
		await(obj.Call("score", p))
	}
}

func BenchmarkJSScoreBatch1000(b *testing.B) {
	obj := installed(b, false)
	gs := goldens(b)
	batch := make([]any, 1000)
	for i := range batch {
		batch[i] = policy(gs[i%len(gs)])
	}
	arg := js.ValueOf(batch)
	b.ResetTimer()
	for range b.N {
		await(obj.Call("scoreBatch", arg))
	}
}
