//go:build js && wasm

package api

import "unsafe"

// The scoring fast path. A call from JavaScript through js.FuncOf costs
// 10 to 40 µs (the Go scheduler resumes for each), far more than a
// prediction; these functions are WebAssembly exports instead
// (go:wasmexport), which cost about 0.1 µs. ppf.js's loader puts them
// behind ppf.score and ppf.scoreBatch: it writes the policies into the
// exchange buffer, calls ppfScoreExchange, and reads the perplexities
// back; on any failure it calls the js.FuncOf path, whose rejection
// says what is wrong. Both paths call Session.Score.

// fast is the Session the exports serve: the one Install bound last.
var fast *Session

// exchange is shared with JavaScript: policies in, perplexities out. Go's
// garbage collector does not move it.
var exchange []float64

// ppfExchange makes the exchange buffer hold at least n float64s and
// returns its address in the WebAssembly memory.
//
//go:wasmexport ppfExchange
func ppfExchange(n int32) int32 {
	if n < 1 {
		n = 1
	}
	if cap(exchange) < int(n) {
		exchange = make([]float64, n)
	}
	exchange = exchange[:cap(exchange)]
	return int32(uintptr(unsafe.Pointer(&exchange[0])))
}

// ppfLayers returns the loaded predictor's layer count, 0 when none.
//
//go:wasmexport ppfLayers
func ppfLayers() int32 {
	if fast == nil || fast.pred == nil {
		return 0
	}
	return int32(len(fast.pred.Space().Layers))
}

// ppfScoreExchange scores the n policies in the exchange buffer: policy
// i's head fractions at [2Li, 2Li+L), its MLP fractions after them, and
// writes perplexity i at 2Ln+i. It returns -1, or the index of the first
// policy it could not score (the js.FuncOf path then says why).
//
//go:wasmexport ppfScoreExchange
func ppfScoreExchange(n int32) int32 {
	L := int(ppfLayers())
	if L == 0 || n < 0 || int(n)*(2*L+1) > len(exchange) {
		return 0
	}
	w, out := 2*L, 2*L*int(n)
	for i := range int(n) {
		ppl, err := fast.Score(exchange[i*w:i*w+L], exchange[i*w+L:i*w+w])
		if err != nil {
			return int32(i)
		}
		exchange[out+i] = ppl
	}
	return -1
}
