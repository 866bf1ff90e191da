#!/usr/bin/env bash
# devicecheck.sh builds the CUDA backend on a GPU machine and checks it in
# one call: conformance against the float64 reference, perplexity parity
# with the CPU engine on the real checkpoints, and the Llama-2-7B-shaped
# benchmark with the GPU's bf16 matrix rate measured in the same run.
#
# Needs nvcc and cuBLAS; Go too, unless PPF_CUDA_TESTBIN names a test binary
# built elsewhere with `go test -tags cuda -c ./native/cuda` (linked against
# any build of libppfcuda.so: the one built here is used at run time).
# Models and text come from PPF_MODELS and PPF_DATA as everywhere else.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/build}
mkdir -p "$here/build" "$out"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
cudalib=$(dirname "$(command -v nvcc)")/../lib64
echo "== building libppfcuda.so with $(nvcc --version | tail -1)"
nvcc -O3 -std=c++17 -gencode "arch=compute_90,code=[sm_90,compute_90]" \
	-shared -Xcompiler -fPIC -Xlinker -rpath -Xlinker "$cudalib" \
	"$here/ppfcuda.cu" -lcublas -o "$here/build/libppfcuda.so"
export LD_LIBRARY_PATH="$here/build:$cudalib:${LD_LIBRARY_PATH:-}"

testbin=${PPF_CUDA_TESTBIN:-}
if [ -z "$testbin" ]; then
	(cd "$here" && go test -tags cuda -c -o build/cuda.test .)
	testbin=$here/build/cuda.test
fi

echo "== conformance and parity"
"$testbin" -test.v -test.run 'Conformance|Parity|Fused' 2>&1 | tee "$out/tests.log" |
	grep -E '^(=== RUN|--- |PASS|FAIL|ok)|perplexity GPU|device:|difference' || true
grep -q '^--- FAIL' "$out/tests.log" && echo "TESTS FAILED" || echo "TESTS PASSED"

echo "== benchmark"
"$testbin" -test.run '^$' -test.bench 'GEMMPeak|Llama7B' -test.benchtime 1x 2>&1 | tee "$out/bench.log"
