#!/usr/bin/env bash
# build.sh compiles the CUDA kernels into native/cuda/build/libppfcuda.so,
# which programs built with -tags cuda link against:
#
#   bash native/cuda/build.sh && go build -tags cuda -o bin/ppf ./cmd/ppf
#
# Needs nvcc and cuBLAS. PPF_CUDA_ARCH picks the GPU generation (default
# 90: H100/H200; 80 for A100; the kernels need 80 or later).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=${PPF_CUDA_ARCH:-90}
mkdir -p "$here/build"
cudalib=$(dirname "$(command -v nvcc)")/../lib64
echo "== building libppfcuda.so for sm_$arch with $(nvcc --version | tail -1)"
nvcc -O3 -std=c++17 -gencode "arch=compute_$arch,code=[sm_$arch,compute_$arch]" \
	-shared -Xcompiler -fPIC -Xlinker -rpath -Xlinker "$cudalib" \
	"$here/ppfcuda.cu" -lcublas -o "$here/build/libppfcuda.so"
