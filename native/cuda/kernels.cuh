// kernels.cuh: the element-wise and reduction kernels of the GPU forward
// pass. The matrix products are cuBLAS calls in ppfcuda.cu. Act is the type
// of matrix-product inputs (float or __nv_bfloat16); the residual stream,
// norms, softmax and log-likelihoods stay in float32.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16(v); }

// block_sum returns the sum of v over the block (blockDim.x a multiple of 32,
// at most 1024) to every thread.
__device__ float block_sum(float v) {
	__shared__ float part[32];
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	__syncthreads();
	if (lane == 0) part[warp] = v;
	__syncthreads();
	int nw = blockDim.x >> 5;
	v = lane < nw ? part[lane] : 0.f;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
	return v;
}

__device__ float block_max(float v) {
	__shared__ float part[32];
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	__syncthreads();
	if (lane == 0) part[warp] = v;
	__syncthreads();
	int nw = blockDim.x >> 5;
	v = lane < nw ? part[lane] : -INFINITY;
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
	return v;
}

// x[t] = emb[tokens[t]], one block per token.
__global__ void embed_kernel(float *x, const float *emb, const int *tokens, int dim) {
	const float *row = emb + (size_t)tokens[blockIdx.x] * dim;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) x[(size_t)blockIdx.x * dim + i] = row[i];
}

// out[t] = weight * x[t] / rms(x[t]), one block per row.
template <typename T>
__global__ void rmsnorm_kernel(T *out, const float *x, const float *weight, int dim, float eps) {
	const float *row = x + (size_t)blockIdx.x * dim;
	float ss = 0.f;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += row[i] * row[i];
	ss = block_sum(ss);
	float inv = rsqrtf(ss / dim + eps);
	for (int i = threadIdx.x; i < dim; i += blockDim.x)
		out[(size_t)blockIdx.x * dim + i] = from_f<T>(weight[i] * (inv * row[i]));
}

// rope_permute reads a (n, heads*hd) projection, rotates each adjacent pair
// of every head by position t when rotate is set, and writes it head-major,
// (heads, n, hd), so that each key/value group's queries are contiguous.
// The n rows are windows of win tokens run side by side: row t is at
// position t % win.
template <typename T>
__global__ void rope_permute_kernel(T *out, const float *in, const float *cos_t, const float *sin_t,
                                    int n, int win, int heads, int hd, int rotate) {
	size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; // one pair each
	size_t pairs = (size_t)n * heads * (hd / 2);
	if (idx >= pairs) return;
	int j = idx % (hd / 2);
	int h = (idx / (hd / 2)) % heads;
	int t = idx / ((size_t)(hd / 2) * heads);
	const float *src = in + (size_t)t * heads * hd + (size_t)h * hd;
	float v0 = src[2 * j], v1 = src[2 * j + 1];
	if (rotate) {
		const size_t pos = t % win;
		float c = cos_t[pos * (hd / 2) + j], s = sin_t[pos * (hd / 2) + j];
		float r0 = v0 * c - v1 * s, r1 = v0 * s + v1 * c;
		v0 = r0;
		v1 = r1;
	}
	T *dst = out + ((size_t)h * n + t) * hd;
	dst[2 * j] = from_f<T>(v0);
	dst[2 * j + 1] = from_f<T>(v1);
}

// causal_softmax turns each row of scores, (heads*n, n) with row r the query
// at position r % n, into probabilities over positions 0..r%n; later
// positions get 0. One block per row.
template <typename T>
__global__ void causal_softmax_kernel(T *probs, const float *scores, int n) {
	size_t r = blockIdx.x;
	int t = r % n;
	const float *row = scores + r * n;
	T *out = probs + r * n;
	float m = -INFINITY;
	for (int j = threadIdx.x; j <= t; j += blockDim.x) m = fmaxf(m, row[j]);
	m = block_max(m);
	float s = 0.f;
	for (int j = threadIdx.x; j <= t; j += blockDim.x) s += __expf(row[j] - m);
	s = block_sum(s);
	float inv = 1.f / s;
	for (int j = threadIdx.x; j < n; j += blockDim.x) out[j] = from_f<T>(j <= t ? __expf(row[j] - m) * inv : 0.f);
}

// unpermute writes attention outputs, (heads, n, hd), back token-major,
// (n, heads*hd), zeroing masked heads (mask NULL keeps all).
template <typename T>
__global__ void unpermute_kernel(T *out, const float *in, const float *mask, int n, int heads, int hd) {
	size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (idx >= (size_t)n * heads * hd) return;
	int d = idx % hd;
	int h = (idx / hd) % heads;
	int t = idx / ((size_t)hd * heads);
	float v = in[((size_t)h * n + t) * hd + d];
	if (mask) v *= mask[h];
	out[idx] = from_f<T>(v);
}

// x += y (+ bias per column); y NULL adds only the bias.
__global__ void residual_kernel(float *x, const float *y, const float *bias, size_t total, int dim) {
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= total) return;
	float v = x[i];
	if (y) v += y[i];
	if (bias) v += bias[i % dim];
	x[i] = v;
}

// h = silu(gate) * up * mask, the SwiGLU activation entering the down
// projection.
template <typename T>
__global__ void swiglu_kernel(T *h, const float *gate, const float *up, const float *mask, size_t total, int hidden) {
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= total) return;
	float g = gate[i];
	float v = g / (1.f + __expf(-g)) * up[i];
	if (mask) v *= mask[i % hidden];
	h[i] = from_f<T>(v);
}

// nll[t] = -log softmax(logits[t])[tokens[t+1]], one block per row t < n-1.
__global__ void nll_kernel(double *nll, const float *logits, const int *tokens, int vocab) {
	int t = blockIdx.x;
	const float *row = logits + (size_t)t * vocab;
	float m = -INFINITY;
	for (int j = threadIdx.x; j < vocab; j += blockDim.x) m = fmaxf(m, row[j]);
	m = block_max(m);
	float s = 0.f;
	for (int j = threadIdx.x; j < vocab; j += blockDim.x) s += expf(row[j] - m);
	s = block_sum(s);
	if (threadIdx.x == 0) nll[t] = (double)logf(s) + (double)m - (double)row[tokens[t + 1]];
}

template <typename T>
__global__ void convert_kernel(T *out, const float *in, size_t n) {
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) out[i] = from_f<T>(in[i]);
}

// fill_kernel writes reproducible pseudo-random values, uniform with the
// given standard deviation (or the constant when std is 0).
template <typename T>
__global__ void fill_kernel(T *out, size_t n, unsigned long long seed, float std, float constant) {
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n) return;
	if (std == 0.f) {
		out[i] = from_f<T>(constant);
		return;
	}
	uint64_t z = seed * 0x9E3779B97F4A7C15ull + i; // splitmix64
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	float u = (float)(z >> 40) * (1.0f / 16777216.0f) * 2.f - 1.f; // uniform [-1, 1)
	out[i] = from_f<T>(u * std * 1.7320508f);                       // std of uniform[-a,a] is a/sqrt(3)
}
