// attention.cuh: fused causal attention for bfloat16 inputs on tensor cores
// (mma.sync m16n8k16, sm_80 and later), for head widths 64 and 128, in the
// manner of FlashAttention-2.
//
// One block of four warps takes 64 queries of one head; each warp owns 16
// of them and keeps, in registers, their Q fragments, the output
// accumulators and the online-softmax statistics (running maximum and
// normaliser per row). For each 64-key tile at or before the diagonal the
// block stages K and Vᵀ in shared memory; each warp computes S = Q·Kᵀ
// (16 x 64), masks the causal triangle, rescales its accumulators by
// exp(old max - new max), and adds P·V with P taken straight from the
// score registers: the accumulator layout of one mma is the operand layout
// of the next, so scores never leave the registers. The causal half of
// the square is skipped, and heads masked by pruning are not computed.
//
// Register layouts of mma.m16n8k16 (PTX ISA), g = lane / 4, c = lane % 4:
//
//	A (16 x 16, row-major), four 32-bit registers of two bf16 each:
//	    {row g, cols 2c, 2c+1}, {row g+8, same}, {row g, cols 2c+8, 2c+9}, {row g+8, same}
//	B (16 x 8), two registers: {rows 2c, 2c+1 of col g}, {rows 2c+8, 2c+9 of col g}
//	C (16 x 8, float): {row g, cols 2c, 2c+1}, {row g+8, cols 2c, 2c+1}
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

namespace fused {
constexpr int BQ = 64, BK = 64, WARPS = 4;
constexpr int VT_STRIDE = BK + 8; // bf16 per row of Vᵀ in shared memory; the 8 spread rows over banks

template <int HD> __host__ __device__ constexpr int k_stride() { return HD + 8; }

template <int HD> constexpr size_t smem_bytes() {
	return (size_t)(BK * k_stride<HD>() + HD * VT_STRIDE) * sizeof(__nv_bfloat16);
}

__device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
	             "{%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ float exp2_approx(float x) {
	float y;
	asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
	return y;
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
	__nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
	return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ uint32_t ld32(const __nv_bfloat16 *p) { return *reinterpret_cast<const uint32_t *>(p); }

// attention_kernel: q (H, N, HD), k and v (KV, N, HD), all bfloat16; out
// (N, H*HD) bfloat16, masked heads zero. The N rows are N/n windows of n
// tokens, each attending only within itself. Grid (ceil(n/BQ), H, N/n);
// the last query blocks, which have the most keys, are started first.
template <int HD>
__global__ void __launch_bounds__(WARPS * 32)
attention_kernel(__nv_bfloat16 *out, const __nv_bfloat16 *q, const __nv_bfloat16 *k, const __nv_bfloat16 *v,
                 const float *head_mask, int N, int n, int H, int KV, float scale) {
	constexpr int KS = k_stride<HD>(), NT = HD / 8, KK = HD / 16;
	extern __shared__ __align__(16) unsigned char smem[];
	__nv_bfloat16 *Ks = reinterpret_cast<__nv_bfloat16 *>(smem); // (BK, KS): K rows of the tile
	__nv_bfloat16 *Vt = Ks + BK * KS;                              // (HD, VT_STRIDE): the tile's V, transposed

	const int h = blockIdx.y, kvh = h / (H / KV);
	const int q0 = (gridDim.x - 1 - blockIdx.x) * BQ;
	const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, c = lane % 4;
	const int r0 = q0 + warp * 16 + g, r1 = r0 + 8; // this thread's two query rows
	const size_t ld = (size_t)H * HD, first = (size_t)blockIdx.z * n; // the window's first row
	out += first * ld;

	if (head_mask && head_mask[h] == 0.f) {
		for (int i = threadIdx.x; i < BQ * HD / 2; i += blockDim.x) {
			int t = q0 + i / (HD / 2), d = (i % (HD / 2)) * 2;
			if (t < n) *reinterpret_cast<uint32_t *>(out + t * ld + (size_t)h * HD + d) = 0;
		}
		return;
	}
	const float gain = head_mask ? head_mask[h] : 1.f;
	const __nv_bfloat16 *qh = q + ((size_t)h * N + first) * HD, *kh = k + ((size_t)kvh * N + first) * HD,
	                    *vh = v + ((size_t)kvh * N + first) * HD;

	uint32_t qf[KK][4];
#pragma unroll
	for (int kk = 0; kk < KK; kk++) {
		const int d = kk * 16 + 2 * c;
		qf[kk][0] = r0 < n ? ld32(qh + (size_t)r0 * HD + d) : 0;
		qf[kk][1] = r1 < n ? ld32(qh + (size_t)r1 * HD + d) : 0;
		qf[kk][2] = r0 < n ? ld32(qh + (size_t)r0 * HD + d + 8) : 0;
		qf[kk][3] = r1 < n ? ld32(qh + (size_t)r1 * HD + d + 8) : 0;
	}
	float o[NT][4];
#pragma unroll
	for (int i = 0; i < NT; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
	float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f; // per row, in log2 units
	const float scale_log2 = scale * 1.4426950408889634f;

	const int last = min(q0 + BQ, n) - 1;      // the block's last query
	const int warp_last = q0 + warp * 16 + 15; // the warp's
	for (int k0 = 0; k0 <= last; k0 += BK) {
		__syncthreads(); // the previous tile is no longer read
		for (int i = threadIdx.x; i < BK * HD / 8; i += blockDim.x) {
			const int r = i / (HD / 8), d = (i % (HD / 8)) * 8;
			uint4 val = make_uint4(0, 0, 0, 0);
			if (k0 + r < n) val = *reinterpret_cast<const uint4 *>(kh + (size_t)(k0 + r) * HD + d);
			*reinterpret_cast<uint4 *>(Ks + r * KS + d) = val;
		}
		// V is read with consecutive threads on consecutive keys, so that
		// the transposed stores fall in different banks.
		for (int i = threadIdx.x; i < BK * HD / 8; i += blockDim.x) {
			const int key = i % BK, d = (i / BK) * 8;
			uint4 val = make_uint4(0, 0, 0, 0);
			if (k0 + key < n) val = *reinterpret_cast<const uint4 *>(vh + (size_t)(k0 + key) * HD + d);
			const __nv_bfloat16 *e = reinterpret_cast<const __nv_bfloat16 *>(&val);
#pragma unroll
			for (int j = 0; j < 8; j++) Vt[(d + j) * VT_STRIDE + key] = e[j];
		}
		__syncthreads();
		if (k0 > warp_last) continue; // the whole tile is after this warp's queries

		float s[BK / 8][4];
#pragma unroll
		for (int nt = 0; nt < BK / 8; nt++) {
			s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
			const __nv_bfloat16 *kr = Ks + (nt * 8 + g) * KS + 2 * c;
#pragma unroll
			for (int kk = 0; kk < KK; kk++) mma16816(s[nt], qf[kk], ld32(kr + kk * 16), ld32(kr + kk * 16 + 8));
		}
		// scale into log2 units, mask, and find the rows' new maxima
		float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
		for (int nt = 0; nt < BK / 8; nt++) {
#pragma unroll
			for (int e = 0; e < 2; e++) {
				const int j = k0 + nt * 8 + 2 * c + e;
				s[nt][e] = (j <= r0 && j < n) ? s[nt][e] * scale_log2 : -INFINITY;
				s[nt][2 + e] = (j <= r1 && j < n) ? s[nt][2 + e] * scale_log2 : -INFINITY;
				mx0 = fmaxf(mx0, s[nt][e]);
				mx1 = fmaxf(mx1, s[nt][2 + e]);
			}
		}
		// a row's values are spread over the four lanes of its group
		mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 1));
		mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 2));
		mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 1));
		mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 2));
		const float n0 = fmaxf(m0, mx0), n1 = fmaxf(m1, mx1);
		// a row with no key yet (only past the text's end) keeps zeros
		const float ref0 = n0 == -INFINITY ? 0.f : n0, ref1 = n1 == -INFINITY ? 0.f : n1;
		const float a0 = exp2_approx(m0 - ref0), a1 = exp2_approx(m1 - ref1);
		m0 = n0, m1 = n1;
		float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
		for (int nt = 0; nt < BK / 8; nt++) {
#pragma unroll
			for (int e = 0; e < 2; e++) {
				s[nt][e] = exp2_approx(s[nt][e] - ref0);
				s[nt][2 + e] = exp2_approx(s[nt][2 + e] - ref1);
				sum0 += s[nt][e];
				sum1 += s[nt][2 + e];
			}
		}
		l0 = l0 * a0 + sum0, l1 = l1 * a1 + sum1;
#pragma unroll
		for (int i = 0; i < NT; i++) o[i][0] *= a0, o[i][1] *= a0, o[i][2] *= a1, o[i][3] *= a1;
		// O += P·V, P from the score registers: keys 16kk.. are score tiles 2kk and 2kk+1
#pragma unroll
		for (int kk = 0; kk < BK / 16; kk++) {
			const uint32_t p[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
			                       pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
			                       pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
			for (int i = 0; i < NT; i++) {
				const __nv_bfloat16 *vr = Vt + (i * 8 + g) * VT_STRIDE + kk * 16 + 2 * c;
				mma16816(o[i], p, ld32(vr), ld32(vr + 8));
			}
		}
	}

	// the normalisers: each lane summed its own columns
	l0 += __shfl_xor_sync(0xffffffff, l0, 1);
	l0 += __shfl_xor_sync(0xffffffff, l0, 2);
	l1 += __shfl_xor_sync(0xffffffff, l1, 1);
	l1 += __shfl_xor_sync(0xffffffff, l1, 2);
	const float f0 = l0 > 0.f ? gain / l0 : 0.f, f1 = l1 > 0.f ? gain / l1 : 0.f;
#pragma unroll
	for (int i = 0; i < NT; i++) {
		const size_t col = (size_t)h * HD + i * 8 + 2 * c;
		if (r0 < n) *reinterpret_cast<uint32_t *>(out + r0 * ld + col) = pack_bf16(o[i][0] * f0, o[i][1] * f0);
		if (r1 < n) *reinterpret_cast<uint32_t *>(out + r1 * ld + col) = pack_bf16(o[i][2] * f1, o[i][3] * f1);
	}
}

// launch runs the kernel for head width hd (one that supports accepts) on
// N rows, windows of n tokens.
inline cudaError_t launch(int hd, __nv_bfloat16 *out, const __nv_bfloat16 *q, const __nv_bfloat16 *k,
                          const __nv_bfloat16 *v, const float *head_mask, int N, int n, int H, int KV, float scale) {
	dim3 grid((n + BQ - 1) / BQ, H, N / n);
	if (hd == 128) {
		size_t sm = smem_bytes<128>();
		cudaFuncSetAttribute(attention_kernel<128>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);
		attention_kernel<128><<<grid, WARPS * 32, sm>>>(out, q, k, v, head_mask, N, n, H, KV, scale);
	} else {
		size_t sm = smem_bytes<64>();
		cudaFuncSetAttribute(attention_kernel<64>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);
		attention_kernel<64><<<grid, WARPS * 32, sm>>>(out, q, k, v, head_mask, N, n, H, KV, scale);
	}
	return cudaGetLastError();
}

inline bool supports(int hd) { return hd == 64 || hd == 128; }
} // namespace fused
