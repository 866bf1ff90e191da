// Package cuda is the GPU backend of package native: built with the build
// tag cuda, it registers the backends "cuda" (float32 weights and products),
// "cuda-bf16" (bfloat16 weights and product inputs, float32 accumulation)
// and "cuda-bf16-fused" (the same with the fused attention kernel of
// attention.cuh), which evaluate models with cuBLAS and the kernels of
// ppfcuda.cu. Without the tag the package is empty and the project needs
// neither cgo nor CUDA.
//
// Building needs nvcc and cuBLAS: first compile the CUDA code into
// build/libppfcuda.so, then build Go with the tag:
//
//	nvcc -O3 -std=c++17 -arch=sm_90 -shared -Xcompiler -fPIC ppfcuda.cu -lcublas -o build/libppfcuda.so
//	LD_LIBRARY_PATH=$PWD/build go test -tags cuda .
//
// devicecheck.sh does both, runs the conformance and parity tests, and
// benchmarks a Llama-2-7B-shaped model.
package cuda
