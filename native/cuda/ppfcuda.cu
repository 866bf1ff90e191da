// ppfcuda.cu: the GPU forward pass behind ppfcuda.h. Weights live on the
// device (matrices in bfloat16 or float32, norms and the embedding in
// float32); matrix products are cuBLAS calls with float32 accumulation;
// attention is the fused kernel of attention.cuh (bfloat16, head widths 64
// and 128) or two cuBLAS products around a softmax kernel; everything else
// is a kernel of kernels.cuh. Logits never leave the device when only
// log-likelihoods are asked for.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <algorithm>
#include <vector>

#include "attention.cuh"
#include "kernels.cuh"
#include "ppfcuda.h"

static char err_buf[512];
const char *ppf_error(void) { return err_buf; }

static int fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	va_end(ap);
	return -1;
}

#define CK(call)                                                                                         \
	do {                                                                                                 \
		cudaError_t e_ = (call);                                                                         \
		if (e_ != cudaSuccess) return fail("%s: %s (%s:%d)", #call, cudaGetErrorString(e_), __FILE__, __LINE__); \
	} while (0)
#define CB(call)                                                                            \
	do {                                                                                    \
		cublasStatus_t s_ = (call);                                                         \
		if (s_ != CUBLAS_STATUS_SUCCESS) return fail("%s: cuBLAS status %d (%s:%d)", #call, (int)s_, __FILE__, __LINE__); \
	} while (0)
#define LAUNCHED() CK(cudaGetLastError())

struct Layer {
	int heads, kv, hidden;
	float *attn_norm = nullptr, *mlp_norm = nullptr;
	void *wq = nullptr, *wk = nullptr, *wv = nullptr, *wo = nullptr; // (heads*hd, dim) ... (dim, heads*hd)
	void *gate = nullptr, *up = nullptr, *down = nullptr;           // (hidden, dim), (hidden, dim), (dim, hidden)
	float *head_mask = nullptr, *chan_mask = nullptr;               // 1 keeps, 0 removes; NULL keeps all
	float *attn_bias = nullptr, *mlp_bias = nullptr;                // (dim) or NULL
	float *bufs[4] = {};                                            // storage behind the four above, kept across changes
	bool attn_on = true, mlp_on = true;                             // some head / channel kept
};

struct ppf_model {
	ppf_config c;
	size_t esize; // bytes of one matrix element
	std::vector<Layer> layers;
	float *emb = nullptr, *final_norm = nullptr; // (vocab, dim), (dim)
	void *output = nullptr;                      // (vocab, dim)
	float *cos_t = nullptr, *sin_t = nullptr;    // (seq_len, hd/2)
	int max_q = 0, max_kv = 0, max_hidden = 0;   // widest layer, for the buffers

	// buffers for up to seq_len tokens
	float *x, *y, *q, *k, *v, *scores, *o, *g, *u, *logits;
	void *xb, *qp, *kp, *vp, *probs, *att, *h;
	int *tokens;
	double *nll;
	cublasHandle_t blas = nullptr;
	std::vector<void *> allocs;
};

static int dev_alloc(ppf_model *m, void **p, size_t bytes) {
	if (bytes == 0) bytes = 16;
	CK(cudaMalloc(p, bytes));
	m->allocs.push_back(*p);
	return 0;
}

int ppf_device_name(char *buf, int n) {
	int dev;
	cudaDeviceProp p;
	CK(cudaGetDevice(&dev));
	CK(cudaGetDeviceProperties(&p, dev));
	snprintf(buf, n, "%s", p.name);
	return 0;
}

void ppf_free(ppf_model *m) {
	if (!m) return;
	for (void *p : m->allocs) cudaFree(p);
	if (m->blas) cublasDestroy(m->blas);
	delete m;
}

int ppf_create(const ppf_config *c, const int *heads, const int *kv_heads, const int *hidden,
               const float *rope_cos, const float *rope_sin, ppf_model **out) {
	ppf_model *m = new ppf_model();
	*out = nullptr;
	m->c = *c;
	m->esize = c->bf16 ? 2 : 4;
	m->layers.resize(c->n_layers);
	int hd = c->head_dim, D = c->dim;
	for (int i = 0; i < c->n_layers; i++) {
		Layer &l = m->layers[i];
		l.heads = heads[i], l.kv = kv_heads[i], l.hidden = hidden[i];
		m->max_q = std::max(m->max_q, l.heads * hd);
		m->max_kv = std::max(m->max_kv, l.kv * hd);
		m->max_hidden = std::max(m->max_hidden, l.hidden);
	}
	size_t T = c->seq_len, es = m->esize;
	int rc = 0;
#define ALLOC(p, bytes) \
	if (rc == 0) rc = dev_alloc(m, (void **)&(p), (bytes))
	ALLOC(m->emb, (size_t)c->vocab_size * D * 4);
	ALLOC(m->final_norm, (size_t)D * 4);
	ALLOC(m->output, (size_t)c->vocab_size * D * es);
	ALLOC(m->cos_t, T * hd / 2 * 4);
	ALLOC(m->sin_t, T * hd / 2 * 4);
	for (Layer &l : m->layers) {
		ALLOC(l.attn_norm, (size_t)D * 4);
		ALLOC(l.mlp_norm, (size_t)D * 4);
		if (l.heads > 0) {
			ALLOC(l.wq, (size_t)l.heads * hd * D * es);
			ALLOC(l.wk, (size_t)l.kv * hd * D * es);
			ALLOC(l.wv, (size_t)l.kv * hd * D * es);
			ALLOC(l.wo, (size_t)D * l.heads * hd * es);
		}
		if (l.hidden > 0) {
			ALLOC(l.gate, (size_t)l.hidden * D * es);
			ALLOC(l.up, (size_t)l.hidden * D * es);
			ALLOC(l.down, (size_t)D * l.hidden * es);
		}
	}
	size_t maxH = m->max_q / hd;
	ALLOC(m->x, T * D * 4);
	ALLOC(m->y, T * D * 4);
	ALLOC(m->xb, T * D * es);
	ALLOC(m->q, T * m->max_q * 4);
	ALLOC(m->k, T * m->max_kv * 4);
	ALLOC(m->v, T * m->max_kv * 4);
	ALLOC(m->qp, T * m->max_q * es);
	ALLOC(m->kp, T * m->max_kv * es);
	ALLOC(m->vp, T * m->max_kv * es);
	size_t square = ppf_fused_attention(c) ? 1 : maxH * T * T; // the fused kernel keeps scores on chip
	ALLOC(m->scores, square * 4);
	ALLOC(m->probs, square * es);
	ALLOC(m->o, T * m->max_q * 4);
	ALLOC(m->att, T * m->max_q * es);
	ALLOC(m->g, T * m->max_hidden * 4);
	ALLOC(m->u, T * m->max_hidden * 4);
	ALLOC(m->h, T * m->max_hidden * es);
	ALLOC(m->logits, T * c->vocab_size * 4);
	ALLOC(m->tokens, T * 4);
	ALLOC(m->nll, T * 8);
#undef ALLOC
	if (rc != 0) {
		ppf_free(m);
		return rc;
	}
	if (cublasCreate(&m->blas) != CUBLAS_STATUS_SUCCESS) {
		ppf_free(m);
		return fail("cublasCreate failed");
	}
	if (cudaMemcpy(m->cos_t, rope_cos, T * hd / 2 * 4, cudaMemcpyHostToDevice) != cudaSuccess ||
	    cudaMemcpy(m->sin_t, rope_sin, T * hd / 2 * 4, cudaMemcpyHostToDevice) != cudaSuccess) {
		ppf_free(m);
		return fail("copying RoPE tables failed");
	}
	*out = m;
	return 0;
}

int ppf_fused_attention(const ppf_config *c) { return c->bf16 && c->fused_attention && fused::supports(c->head_dim); }

static int blocks(size_t n, int threads) { return (int)((n + threads - 1) / threads); }

// upload_matrix copies n floats to dst, converting to the model's type.
static int upload_matrix(ppf_model *m, void *dst, const float *data, size_t n) {
	if (!m->c.bf16) {
		CK(cudaMemcpy(dst, data, n * 4, cudaMemcpyHostToDevice));
		return 0;
	}
	float *tmp;
	CK(cudaMalloc(&tmp, n * 4));
	cudaError_t e = cudaMemcpy(tmp, data, n * 4, cudaMemcpyHostToDevice);
	if (e == cudaSuccess) {
		convert_kernel<<<blocks(n, 256), 256>>>((__nv_bfloat16 *)dst, tmp, n);
		e = cudaGetLastError();
	}
	if (e == cudaSuccess) e = cudaDeviceSynchronize();
	cudaFree(tmp);
	if (e != cudaSuccess) return fail("uploading a matrix: %s", cudaGetErrorString(e));
	return 0;
}

int ppf_upload(ppf_model *m, int kind, int layer, const float *data, long n) {
	const ppf_config &c = m->c;
	size_t D = c.dim, hd = c.head_dim, want = 0;
	void *dst = nullptr;
	bool matrix = true;
	Layer *l = (layer >= 0 && layer < c.n_layers) ? &m->layers[layer] : nullptr;
	if (kind >= PPF_ATTN_NORM && !l) return fail("layer %d out of range", layer);
	switch (kind) {
	case PPF_EMBEDDING: dst = m->emb, want = (size_t)c.vocab_size * D, matrix = false; break;
	case PPF_FINAL_NORM: dst = m->final_norm, want = D, matrix = false; break;
	case PPF_OUTPUT: dst = m->output, want = (size_t)c.vocab_size * D; break;
	case PPF_ATTN_NORM: dst = l->attn_norm, want = D, matrix = false; break;
	case PPF_MLP_NORM: dst = l->mlp_norm, want = D, matrix = false; break;
	case PPF_WQ: dst = l->wq, want = l->heads * hd * D; break;
	case PPF_WK: dst = l->wk, want = l->kv * hd * D; break;
	case PPF_WV: dst = l->wv, want = l->kv * hd * D; break;
	case PPF_WO: dst = l->wo, want = D * l->heads * hd; break;
	case PPF_GATE: dst = l->gate, want = (size_t)l->hidden * D; break;
	case PPF_UP: dst = l->up, want = (size_t)l->hidden * D; break;
	case PPF_DOWN: dst = l->down, want = D * l->hidden; break;
	default: return fail("unknown tensor kind %d", kind);
	}
	if ((size_t)n != want) return fail("tensor kind %d of layer %d: %ld values, want %zu", kind, layer, n, want);
	if (n == 0) return 0;
	if (!matrix) {
		CK(cudaMemcpy(dst, data, want * 4, cudaMemcpyHostToDevice));
		return 0;
	}
	return upload_matrix(m, dst, data, want);
}

template <typename T> static int fill(T *p, size_t n, unsigned long long seed, float std, float constant) {
	if (n == 0) return 0;
	fill_kernel<T><<<blocks(n, 256), 256>>>(p, n, seed, std, constant);
	LAUNCHED();
	return 0;
}

static int fill_matrix(ppf_model *m, void *p, size_t n, unsigned long long seed, float std) {
	if (m->c.bf16) return fill((__nv_bfloat16 *)p, n, seed, std, 0);
	return fill((float *)p, n, seed, std, 0);
}

int ppf_randomize(ppf_model *m, unsigned long long seed) {
	const ppf_config &c = m->c;
	size_t D = c.dim, hd = c.head_dim;
	float sd = 1.f / sqrtf((float)D);
	int rc = 0;
	unsigned long long s = seed * 1000;
	rc |= fill(m->emb, (size_t)c.vocab_size * D, ++s, 1.f, 0);
	rc |= fill(m->final_norm, D, ++s, 0, 1.f);
	rc |= fill_matrix(m, m->output, (size_t)c.vocab_size * D, ++s, sd);
	for (Layer &l : m->layers) {
		rc |= fill(l.attn_norm, D, ++s, 0, 1.f);
		rc |= fill(l.mlp_norm, D, ++s, 0, 1.f);
		if (l.heads > 0) {
			rc |= fill_matrix(m, l.wq, l.heads * hd * D, ++s, sd);
			rc |= fill_matrix(m, l.wk, l.kv * hd * D, ++s, sd);
			rc |= fill_matrix(m, l.wv, l.kv * hd * D, ++s, sd);
			rc |= fill_matrix(m, l.wo, D * l.heads * hd, ++s, 1.f / sqrtf((float)(l.heads * hd)));
		}
		if (l.hidden > 0) {
			rc |= fill_matrix(m, l.gate, l.hidden * D, ++s, sd);
			rc |= fill_matrix(m, l.up, l.hidden * D, ++s, sd);
			rc |= fill_matrix(m, l.down, D * l.hidden, ++s, 1.f / sqrtf((float)l.hidden));
		}
	}
	if (rc) return -1;
	CK(cudaDeviceSynchronize());
	return 0;
}

// set_vec points *dst at a device copy of src (n floats) kept in *buf, or
// at nothing when src is NULL; buf is allocated once and reused, so that
// evaluating many pruning policies does not grow device memory.
static int set_vec(ppf_model *m, float **dst, float **buf, const float *src, size_t n) {
	*dst = nullptr;
	if (!src || n == 0) return 0;
	if (!*buf && dev_alloc(m, (void **)buf, n * 4)) return -1;
	CK(cudaMemcpy(*buf, src, n * 4, cudaMemcpyHostToDevice));
	*dst = *buf;
	return 0;
}

int ppf_set_pruning(ppf_model *m, int layer, const unsigned char *head_mask, const unsigned char *channel_mask,
                    const float *attn_bias, const float *mlp_bias) {
	if (layer < 0 || layer >= m->c.n_layers) return fail("layer %d out of range", layer);
	Layer &l = m->layers[layer];
	std::vector<float> hm, cm;
	l.attn_on = l.heads > 0;
	l.mlp_on = l.hidden > 0;
	if (head_mask) {
		bool any = false;
		for (int i = 0; i < l.heads; i++) hm.push_back(head_mask[i] ? 1.f : 0.f), any |= head_mask[i] != 0;
		l.attn_on = l.attn_on && any;
	}
	if (channel_mask) {
		bool any = false;
		for (int i = 0; i < l.hidden; i++) cm.push_back(channel_mask[i] ? 1.f : 0.f), any |= channel_mask[i] != 0;
		l.mlp_on = l.mlp_on && any;
	}
	if (set_vec(m, &l.head_mask, &l.bufs[0], head_mask ? hm.data() : nullptr, l.heads) ||
	    set_vec(m, &l.chan_mask, &l.bufs[1], channel_mask ? cm.data() : nullptr, l.hidden) ||
	    set_vec(m, &l.attn_bias, &l.bufs[2], attn_bias, m->c.dim) || set_vec(m, &l.mlp_bias, &l.bufs[3], mlp_bias, m->c.dim))
		return -1;
	return 0;
}

// linear computes y (n, out) = x (n, in) · wᵀ, w (out, in) row-major, with
// float32 accumulation and output. Row-major y is column-major yᵀ = w·xᵀ.
static int linear(ppf_model *m, float *y, const void *x, const void *w, int n, int in, int out) {
	const float one = 1.f, zero = 0.f;
	cudaDataType t = m->c.bf16 ? CUDA_R_16BF : CUDA_R_32F;
	CB(cublasGemmEx(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, t, in, x, t, in, &zero, y, CUDA_R_32F, out,
	                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	return 0;
}

// attention runs N rows, windows of n tokens side by side; only the fused
// kernel takes more than one window.
template <typename A> static int attention(ppf_model *m, Layer &l, int N, int n) {
	int hd = m->c.head_dim, H = l.heads, KV = l.kv, G = H / KV;
	const float one = 1.f, zero = 0.f, scale = 1.f / sqrtf((float)hd);
	cudaDataType t = m->c.bf16 ? CUDA_R_16BF : CUDA_R_32F;
	size_t pq = (size_t)N * H * hd / 2, pk = (size_t)N * KV * hd / 2;
	rope_permute_kernel<A><<<blocks(pq, 256), 256>>>((A *)m->qp, m->q, m->cos_t, m->sin_t, N, n, H, hd, 1);
	rope_permute_kernel<A><<<blocks(pk, 256), 256>>>((A *)m->kp, m->k, m->cos_t, m->sin_t, N, n, KV, hd, 1);
	rope_permute_kernel<A><<<blocks(pk, 256), 256>>>((A *)m->vp, m->v, m->cos_t, m->sin_t, N, n, KV, hd, 0);
	LAUNCHED();
	if (ppf_fused_attention(&m->c)) {
		CK(fused::launch(hd, (__nv_bfloat16 *)m->att, (const __nv_bfloat16 *)m->qp, (const __nv_bfloat16 *)m->kp,
		                 (const __nv_bfloat16 *)m->vp, l.head_mask, N, n, H, KV, scale));
		return 0;
	}
	if (N != n) return fail("internal: %d rows of windows of %d without the fused kernel", N, n);
	// scores of group g, (G*n, n) = scale · Q_g (G*n, hd) · K_gᵀ
	CB(cublasGemmStridedBatchedEx(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, n, G * n, hd, &scale, m->kp, t, hd, (long long)n * hd,
	                              m->qp, t, hd, (long long)G * n * hd, &zero, m->scores, CUDA_R_32F, n,
	                              (long long)G * n * n, KV, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	causal_softmax_kernel<A><<<H * n, 256>>>((A *)m->probs, m->scores, n);
	LAUNCHED();
	// outputs of group g, (G*n, hd) = P_g (G*n, n) · V_g (n, hd)
	CB(cublasGemmStridedBatchedEx(m->blas, CUBLAS_OP_N, CUBLAS_OP_N, hd, G * n, n, &one, m->vp, t, hd, (long long)n * hd,
	                              m->probs, t, n, (long long)G * n * n, &zero, m->o, CUDA_R_32F, hd,
	                              (long long)G * n * hd, KV, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	size_t total = (size_t)n * H * hd;
	unpermute_kernel<A><<<blocks(total, 256), 256>>>((A *)m->att, m->o, l.head_mask, n, H, hd);
	LAUNCHED();
	return 0;
}

// forward runs n tokens (already in m->tokens), windows of win tokens side
// by side, each from position 0, and leaves the logits, (n, vocab), in
// m->logits.
template <typename A> static int forward(ppf_model *m, int n, int win) {
	const ppf_config &c = m->c;
	int D = c.dim, hd = c.head_dim;
	size_t nd = (size_t)n * D;
	embed_kernel<<<n, 256>>>(m->x, m->emb, m->tokens, D);
	LAUNCHED();
	for (Layer &l : m->layers) {
		if (l.attn_on) {
			rmsnorm_kernel<A><<<n, 256>>>((A *)m->xb, m->x, l.attn_norm, D, c.norm_eps);
			LAUNCHED();
			if (linear(m, m->q, m->xb, l.wq, n, D, l.heads * hd) || linear(m, m->k, m->xb, l.wk, n, D, l.kv * hd) ||
			    linear(m, m->v, m->xb, l.wv, n, D, l.kv * hd) || attention<A>(m, l, n, win) ||
			    linear(m, m->y, m->att, l.wo, n, l.heads * hd, D))
				return -1;
			residual_kernel<<<blocks(nd, 256), 256>>>(m->x, m->y, l.attn_bias, nd, D);
		} else if (l.attn_bias) {
			residual_kernel<<<blocks(nd, 256), 256>>>(m->x, nullptr, l.attn_bias, nd, D);
		}
		LAUNCHED();
		if (l.mlp_on) {
			size_t nh = (size_t)n * l.hidden;
			rmsnorm_kernel<A><<<n, 256>>>((A *)m->xb, m->x, l.mlp_norm, D, c.norm_eps);
			LAUNCHED();
			if (linear(m, m->g, m->xb, l.gate, n, D, l.hidden) || linear(m, m->u, m->xb, l.up, n, D, l.hidden)) return -1;
			swiglu_kernel<A><<<blocks(nh, 256), 256>>>((A *)m->h, m->g, m->u, l.chan_mask, nh, l.hidden);
			LAUNCHED();
			if (linear(m, m->y, m->h, l.down, n, l.hidden, D)) return -1;
			residual_kernel<<<blocks(nd, 256), 256>>>(m->x, m->y, l.mlp_bias, nd, D);
		} else if (l.mlp_bias) {
			residual_kernel<<<blocks(nd, 256), 256>>>(m->x, nullptr, l.mlp_bias, nd, D);
		}
		LAUNCHED();
	}
	rmsnorm_kernel<A><<<n, 256>>>((A *)m->xb, m->x, m->final_norm, D, c.norm_eps);
	LAUNCHED();
	return linear(m, m->logits, m->xb, m->output, n, D, c.vocab_size);
}

// run runs windows of n tokens side by side, each from position 0.
static int run(ppf_model *m, const int *tokens, int windows, int n) {
	if (n < 1 || n > m->c.seq_len) return fail("%d tokens: this model takes 1 to %d per window", n, m->c.seq_len);
	const int N = windows * n;
	for (int i = 0; i < N; i++)
		if (tokens[i] < 0 || tokens[i] >= m->c.vocab_size) return fail("token %d outside the vocabulary of %d", tokens[i], m->c.vocab_size);
	CK(cudaMemcpy(m->tokens, tokens, (size_t)N * 4, cudaMemcpyHostToDevice));
	return m->c.bf16 ? forward<__nv_bfloat16>(m, N, n) : forward<float>(m, N, n);
}

// windows_per_pass is how many windows of n tokens run side by side: with
// the fused kernel as many as the buffers (seq_len rows) hold, up to
// window_batch; otherwise one. Short windows make thin matrix products
// and many small kernel launches; side by side they make one pass.
static int windows_per_pass(const ppf_model *m, int n) {
	if (!ppf_fused_attention(&m->c)) return 1;
	int b = std::max(1, m->c.seq_len / n);
	return m->c.window_batch > 0 ? std::min(b, m->c.window_batch) : b;
}

int ppf_logits(ppf_model *m, const int *tokens, int n, float *logits) {
	if (run(m, tokens, 1, n)) return -1;
	CK(cudaMemcpy(logits, m->logits, (size_t)n * m->c.vocab_size * 4, cudaMemcpyDeviceToHost));
	return 0;
}

int ppf_window_nll(ppf_model *m, const int *tokens, int n_windows, int n, double *nll) {
	if (n < 2) return fail("windows of %d tokens predict nothing", n);
	const int per_pass = windows_per_pass(m, n);
	std::vector<double> rows((size_t)per_pass * (n - 1));
	for (int w0 = 0; w0 < n_windows; w0 += per_pass) {
		const int b = std::min(per_pass, n_windows - w0);
		if (run(m, tokens + (size_t)w0 * n, b, n)) return -1;
		for (int w = 0; w < b; w++) { // a window's last token predicts nothing
			size_t at = (size_t)w * n;
			nll_kernel<<<n - 1, 256>>>(m->nll + (size_t)w * (n - 1), m->logits + at * m->c.vocab_size, m->tokens + at,
			                           m->c.vocab_size);
		}
		LAUNCHED();
		CK(cudaMemcpy(rows.data(), m->nll, (size_t)b * (n - 1) * 8, cudaMemcpyDeviceToHost));
		for (int w = 0; w < b; w++) {
			double s = 0;
			for (int i = 0; i < n - 1; i++) s += rows[(size_t)w * (n - 1) + i];
			nll[w0 + w] = s;
		}
	}
	return 0;
}

int ppf_gemm_tflops(int M, int N, int K, int iters, double *tflops) {
	cublasHandle_t h;
	CB(cublasCreate(&h));
	__nv_bfloat16 *a, *b, *c;
	CK(cudaMalloc(&a, (size_t)M * K * 2));
	CK(cudaMalloc(&b, (size_t)K * N * 2));
	CK(cudaMalloc(&c, (size_t)M * N * 2));
	if (fill(a, (size_t)M * K, 11, 0.05f, 0) || fill(b, (size_t)K * N, 12, 0.05f, 0)) return -1;
	const float one = 1.f, zero = 0.f;
	cudaEvent_t start, stop;
	CK(cudaEventCreate(&start));
	CK(cudaEventCreate(&stop));
	for (int i = 0; i < iters + 3; i++) {
		if (i == 3) CK(cudaEventRecord(start));
		CB(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, a, CUDA_R_16BF, M, b, CUDA_R_16BF, K, &zero, c,
		                CUDA_R_16BF, M, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	}
	CK(cudaEventRecord(stop));
	CK(cudaEventSynchronize(stop));
	float ms;
	CK(cudaEventElapsedTime(&ms, start, stop));
	*tflops = 2.0 * M * N * (double)K * iters / (ms * 1e-3) / 1e12;
	cudaFree(a), cudaFree(b), cudaFree(c);
	cublasDestroy(h);
	return 0;
}
