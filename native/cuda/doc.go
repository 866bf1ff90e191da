// Package cuda is the GPU backend of package native: built with the build
// tag cuda, it registers the backends "cuda" (float32 weights and products),
// "cuda-bf16" (bfloat16 weights and product inputs, float32 accumulation,
// attention in the fused kernel of attention.cuh for head widths 64 and
// 128) and "cuda-bf16-cublas" (the same with attention as cuBLAS products,
// the fused kernel's reference), which evaluate models with cuBLAS and the
// kernels of ppfcuda.cu. Without the tag the package is empty and the project needs
// neither cgo nor CUDA.
//
// Building needs nvcc and cuBLAS: first compile the CUDA code into
// build/libppfcuda.so, then build Go with the tag:
//
//	bash build.sh      # nvcc: build/libppfcuda.so
//	go test -tags cuda .
//
// devicecheck.sh does both, runs the conformance and parity tests, and
// benchmarks a Llama-2-7B-shaped model.
package cuda
