// Package native is the PPF engine: it loads Llama-family checkpoints
// (llama2.c and Hugging Face safetensors), runs them on all CPU cores,
// generates text and measures perplexity. Pruning edits a Model's plain
// weight slices; the forward pass adapts to each layer's own head count and
// MLP width.
//
// The forward pass (State.Forward) reads top to bottom in the order of
// llama2.c's run.c: embedding, then per layer RMSNorm, q/k/v projections,
// RoPE, causal grouped-query attention, output projection, residual,
// RMSNorm, SwiGLU MLP, residual; then the final RMSNorm and the classifier.
// All matrix products go through one place, matmul.go (SIMD kernels
// chosen at run time, a plain Go fallback); the products of one token,
// as decoding runs them, read the weights as stored (matvec_amd64.go).
package native
