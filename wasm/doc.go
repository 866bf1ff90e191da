// Package wasm will hold the PPF performance predictor compiled to
// WebAssembly (GOOS=js GOARCH=wasm), so that a browser page or a notebook
// output can score pruning policies with no server. Not built yet.
package wasm
