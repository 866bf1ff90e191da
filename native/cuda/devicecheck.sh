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
bash "$here/build.sh"
export LD_LIBRARY_PATH="$here/build:$cudalib:${LD_LIBRARY_PATH:-}"

# Sections to run: tests, bench, cli (default: all three).
sections=${*:-tests bench cli}
want() { [[ " $sections " == *" $1 "* ]]; }

if want tests || want bench; then
	testbin=${PPF_CUDA_TESTBIN:-}
	if [ -z "$testbin" ]; then
		(cd "$here" && go test -tags cuda -c -o build/cuda.test .)
		testbin=$here/build/cuda.test
	fi
fi

if want tests; then
	echo "== conformance and parity"
	"$testbin" -test.v -test.run 'Conformance|Parity|Fused|SideBySide' 2>&1 | tee "$out/tests.log" |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|perplexity GPU|device:|difference' || true
	grep -q '^--- FAIL' "$out/tests.log" && echo "TESTS FAILED" || echo "TESTS PASSED"
fi

if want bench; then
	echo "== benchmark"
	"$testbin" -test.run '^$' -test.bench 'GEMMPeak|Llama7BWikiText2' -test.benchtime 1x 2>&1 | tee "$out/bench.log"
	"$testbin" -test.run '^$' -test.bench 'Llama7BSearchSlice' -test.benchtime 20x 2>&1 | grep Benchmark | tee -a "$out/bench.log"
	"$testbin" -test.run '^$' -test.bench 'Llama7BSliced' -test.benchtime 3x 2>&1 | grep Benchmark | tee -a "$out/bench.log"
fi

if want cli; then
	# The command line on the GPU: ppf built with -tags cuda (or PPF_BIN,
	# built elsewhere) measures the same perplexities on every backend,
	# dense and for every policy of a collection.
	echo "== ppf --backend"
	ppf=${PPF_BIN:-}
	if [ -z "$ppf" ]; then
		(cd "$here/../.." && go build -tags cuda -o native/cuda/build/ppf ./cmd/ppf)
		ppf=$here/build/ppf
	fi
	for model in stories260K babyllama-tok105; do
		for b in cpu cuda cuda-bf16; do
			printf '%-16s %-10s ' "$model" "$b"
			"$ppf" eval --model "$model" --seqlen 256 --backend "$b" --json
		done
	done
	for b in cpu cuda cuda-bf16; do
		start=$(date +%s%N)
		"$ppf" collect --model babyllama-tok105 --samples 24 --backend "$b" --out "$out/collect-$b.jsonl" >"$out/collect-$b.log" 2>&1
		echo "collect, 24 policies, babyllama-tok105, $b: $(( ($(date +%s%N) - start) / 1000000 )) ms"
	done
	ppl() { grep -o '"perplexity":[^,]*' "$1" | cut -d: -f2; }
	for b in cuda cuda-bf16; do
		paste <(ppl "$out/collect-cpu.jsonl") <(ppl "$out/collect-$b.jsonl") |
			awk -v b="$b" '{ r = ($2 - $1) / $1; if (r < 0) r = -r; if (r > m) m = r }
				END { printf "collect on %s vs cpu: %d policies, largest relative perplexity difference %.2e\n", b, NR, m }'
	done
fi
