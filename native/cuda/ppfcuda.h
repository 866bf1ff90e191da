// ppfcuda.h: the C interface between package cuda (Go, cgo) and the CUDA
// code in ppfcuda.cu, built by nvcc into libppfcuda.so. Every function
// returns 0 on success, or -1 with a message available from ppf_error.
#ifndef PPFCUDA_H
#define PPFCUDA_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ppf_model ppf_model;

typedef struct {
	int dim, hidden_dim, n_layers, n_heads, n_kv_heads, head_dim, vocab_size, seq_len;
	float norm_eps;
	int bf16; // 1: weights and matrix-product inputs in bfloat16; 0: float32 throughout
	int fused_attention; // 1: the fused attention kernel where it applies (bf16, head_dim 64 or 128)
	int window_batch;    // with the fused kernel, windows run side by side in one pass: at most this many (0: as many as seq_len holds)
} ppf_config;

// Tensor kinds for ppf_upload (layer is ignored for the model-wide ones).
enum {
	PPF_EMBEDDING, PPF_FINAL_NORM, PPF_OUTPUT,
	PPF_ATTN_NORM, PPF_WQ, PPF_WK, PPF_WV, PPF_WO,
	PPF_MLP_NORM, PPF_GATE, PPF_UP, PPF_DOWN
};

const char *ppf_error(void);

// ppf_device_name writes the GPU's name into buf.
int ppf_device_name(char *buf, int n);

// ppf_fused_attention says whether a model with this configuration runs
// the fused attention kernel: asked for, bfloat16, head_dim 64 or 128.
int ppf_fused_attention(const ppf_config *c);

// ppf_create allocates a model whose layers have the sizes in heads,
// kv_heads and hidden (one entry per layer). rope_cos and rope_sin are
// (seq_len, head_dim/2) tables.
int ppf_create(const ppf_config *c, const int *heads, const int *kv_heads, const int *hidden,
               const float *rope_cos, const float *rope_sin, ppf_model **out);
void ppf_free(ppf_model *m);

// ppf_upload copies n float32 values of one tensor to the device.
int ppf_upload(ppf_model *m, int kind, int layer, const float *data, long n);

// ppf_randomize fills every weight with reproducible pseudo-random values
// (matrices uniform with standard deviation 1/sqrt(fan-in), norms 1), on the
// device: for benchmarks of models too large to build on the host.
int ppf_randomize(ppf_model *m, unsigned long long seed);

// ppf_set_pruning sets one layer's masks (1 keeps, 0 removes; NULL keeps
// all) and compensation biases (dim values; NULL for none).
int ppf_set_pruning(ppf_model *m, int layer, const unsigned char *head_mask, const unsigned char *channel_mask,
                    const float *attn_bias, const float *mlp_bias);

// ppf_logits runs n tokens from position 0 and copies (n, vocab) logits out.
int ppf_logits(ppf_model *m, const int *tokens, int n, float *logits);

// ppf_window_nll runs n_windows windows of n tokens each (tokens holds them
// back to back) and writes each window's summed negative log-likelihood of
// its tokens 1..n-1. Logits stay on the device. With the fused attention
// kernel, windows run side by side, as many per pass as seq_len rows hold
// (at most window_batch).
int ppf_window_nll(ppf_model *m, const int *tokens, int n_windows, int n, double *nll);

// ppf_gemm_tflops times one m x n x k bfloat16 product (float32
// accumulation) with cuBLAS and returns its rate: the matrix ceiling.
int ppf_gemm_tflops(int m, int n, int k, int iters, double *tflops);

#ifdef __cplusplus
}
#endif
#endif
