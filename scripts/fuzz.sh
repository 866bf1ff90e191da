#!/usr/bin/env bash
# Fuzzes every loader for SECONDS each (default 10): llama2.c and Hugging
# Face checkpoints, tokenizer files, predictor and agent files, dataset
# lines. Their seeds (valid files, the crafted cases of docs/security.md
# and the corpus in testdata/fuzz) already run in every `go test`.
#
#   scripts/fuzz.sh 60           # a minute per target
#   scripts/fuzz.sh 60 --keep    # then copy what the fuzzer found new into
#                                # testdata/fuzz, to commit as seeds
#
# -fuzzminimizetime is bounded because Go minimizes each new interesting
# input for up to 60 s by default, during which no new input runs: with
# our kilobyte-sized seeds that reads as a fuzzer stuck at 0 execs/s.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
keep=${2:-}
targets=(
	./native:FuzzLoadLlama2C
	./native:FuzzLoadHF
	./native/tokenizer:FuzzParse
	./ppfnb/predictor:FuzzDecode
	./ppfnb/predictor:FuzzReadJSONL
	./ppfnb/agent:FuzzDecode
)
cache=$(go env GOCACHE)/fuzz
for t in "${targets[@]}"; do
	pkg=${t%%:*} name=${t##*:}
	echo "fuzz.sh: $pkg $name for ${seconds}s"
	dir=$pkg/testdata/fuzz/$name
	before=$(ls "$dir" 2>/dev/null || true)
	if ! out=$(go test -run XXX -fuzz "^$name\$" -fuzztime "${seconds}s" -fuzzminimizetime 100x "$pkg" 2>&1); then
		echo "$out" | grep -v '^fuzz: elapsed'
		after=$(ls "$dir" 2>/dev/null || true)
		# Go 1.26's coordinator can report its own -fuzztime deadline as a
		# failure (go.dev/issue/75804, fixed in Go 1.27): no input failed
		# then, and none is written. A real failure always writes its input.
		if [ "$before" = "$after" ] && echo "$out" | grep -q '^    context deadline exceeded$' &&
			! echo "$out" | grep -q 'panic\|hung\|Failing input'; then
			echo "fuzz.sh: $pkg $name: Go's fuzztime race (go.dev/issue/75804), no failing input; not a failure"
		else
			echo "fuzz.sh: $pkg $name failed; the input is in $dir" >&2
			exit 1
		fi
	else
		echo "$out" | grep -v '^fuzz: elapsed' || true
	fi
	if [ "$keep" = --keep ]; then
		src=$cache/$(go list "$pkg")/$name
		if [ -d "$src" ]; then
			mkdir -p "$pkg/testdata/fuzz/$name"
			cp -n "$src"/* "$pkg/testdata/fuzz/$name/"
		fi
	fi
done
