#!/usr/bin/env bash
# Builds ppf-kernel, installs its kernelspec in a temporary Jupyter path
# and runs bench.py against it and Debian's ipykernel (python3).
# Needs: apt-get install -y python3-jupyter-client python3-ipykernel
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/ppf-kernel" ./cmd/ppf-kernel
JUPYTER_DATA_DIR="$tmp/jupyter" "$tmp/ppf-kernel" install >/dev/null
export JUPYTER_PATH="$tmp/jupyter" JUPYTER_RUNTIME_DIR="$tmp/runtime" PYDEVD_DISABLE_FILE_VALIDATION=1
/usr/bin/python3 -Xfrozen_modules=off kernel/bench/bench.py "$@"
