// Package wasm is the PPF performance predictor in a browser: a
// GOOS=js GOARCH=wasm build of packages ppfnb/predictor and ppfnb/agent
// with a small JavaScript API, and a static page that uses it, served by
// `ppf serve` and inlined by the notebook widget (ppfnb.PredictorWidget).
// Nothing runs on a server: a predictor file in, predictions out.
//
// Layout:
//
//	cmd/ppfwasm     the WebAssembly program: installs the API on globalThis.ppf
//	internal/api    the API: Session (plain Go, tested natively) and its
//	                JavaScript binding (js.go, tested under Node)
//	internal/gen    go generate's program that builds the page's files
//
// The page and its generated, committed files (index.html, ppf.js,
// ppf.css, wasm_exec.js, ppf.wasm.gz, the demo predictor and agent) live
// in package ppfnb/web, embedded, with Handler (ppf serve) and InlineHTML
// (the notebook widget): there both cmd/ppf and ppfnb can use them while
// imports keep pointing from wasm to ppfnb.
//
// # JavaScript API
//
// After ppf.js's ppfLoad("ppf.wasm") (or the page) has started the
// program, globalThis.ppf holds:
//
//	ppf.ready                    Promise<ppf>, resolved once the program runs
//	ppf.loadPredictor(jsonText)  Promise<info>: modelId, layers[{headUnits, mlpUnits,
//	                             minHeadUnits, minMlpUnits, headUnitCost, mlpUnitCost}],
//	                             params, maxRatio, arch, trainN, valN, valRMSE, densePerplexity
//	ppf.loadAgent(jsonText)      Promise<{modelId, ratioMin, ratioMax}>; the agent must
//	                             be for the loaded predictor's model and Space
//	ppf.score(policy)            Promise<number>: predicted perplexity
//	ppf.scoreBatch(policies)     Promise<Float64Array>: one perplexity per policy
//	ppf.evaluate(policy)         Promise<result>
//	ppf.policyFor(ratio)         Promise<result>: the agent's policy for ratio
//	ppf.uniform(ratio)           Promise<result>: every layer pruned alike
//	ppf.unloadAgent(), ppf.reset()
//
// A policy is {heads: [...], mlp: [...]}: per layer, the kept fraction of
// key/value groups and of MLP channels (arrays or Float64Arrays of numbers
// in [0, 1]), snapped to whole units as predictor.Space.FromFractions
// does; a layer whose two fractions are 0 is dropped. A result is
// {perplexity, logPerplexity, ratio, heads, mlp, headUnits, mlpUnits,
// dropped}: the snapped policy (its fractions can be passed back), its
// global ratio and its prediction. The numbers are the native
// predictor's (the same Go code; exp and log may differ in the last bit).
//
// Bad input rejects the promise with an Error whose code says why:
// "malformed" (not JSON, not a predictor file, damaged), "mismatch"
// (another file format or version, or an agent of another model),
// "bad-policy" (wrong length, a value outside [0, 1] or not a number),
// "out-of-range" (a ratio outside the agent's trained range),
// "no-predictor", "no-agent", "bad-argument", "not-finite". No call
// returns NaN.
//
// A call from JavaScript into Go through js.FuncOf costs 10 to 40 µs,
// more than a prediction, so ppfLoad puts score and scoreBatch on
// WebAssembly exports (internal/api/export.go, about 0.1 µs a call) and
// falls back to the js.FuncOf functions for anything they refuse; the
// rest of the API stays on js.FuncOf.
//
// # Building
//
// The .wasm is built by go generate ./wasm/... and committed (with
// wasm_exec.js of the same Go version), so that `ppf serve` and the
// widget work from a plain go build, with no JavaScript toolchain, and
// embed it with go:embed. The build is reproducible (-trimpath,
// -buildvcs=false, empty build ID, gzip without name or time):
// `go run ./wasm/internal/gen -check` rebuilds it and fails when the
// committed files differ, which CI runs. It is stripped (-s -w) and
// served gzip-compressed; see docs/browser.md for its size and speed.
package wasm

//go:generate go run ./internal/gen
