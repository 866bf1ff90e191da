#!/usr/bin/env bash
# Compare the PPF Jupyter kernel's latency before and after a change.
#
#   kernel/bench/compare.sh BEFORE_SRC AFTER_SRC [--starts N] [--executes N]
#
# BEFORE_SRC, AFTER_SRC: source trees of the repository (each with
# cmd/ppf-kernel). Builds both kernels, installs them as kernelspecs
# "ppf-before" and "ppf-after" in a temporary Jupyter path, and measures them
# and Debian's ipykernel ("python3") in one process with the functions of
# kernel/bench/bench.py (same client, same definitions):
#   start  = process start to first kernel_info_reply
#   rt     = execute_request "1 + 1" round trip (request sent -> execute_reply)
# The three kernels alternate: each round starts every kernel once, in an
# order that rotates from round to round, and each kernel's round trips are
# spread over the rounds (executes/starts per round, after 10 warm-ups).
#
# bench.py is taken from BEFORE_SRC (so the instrument does not change with
# the rewrite); set BENCH=/path/to/bench.py to use another.
# Raw samples go to $RAW (default /tmp/kernel-bench-compare-<time>.json).
# Needs: apt-get install -y python3-jupyter-client python3-ipykernel
set -euo pipefail
if [ $# -lt 2 ]; then sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); shift 2
bench=${BENCH:-$before/kernel/bench/bench.py}
raw=${RAW:-/tmp/kernel-bench-compare-$(date +%Y%m%d-%H%M%S).json}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for side in before after; do
  src=$before; [ $side = after ] && src=$after
  mkdir -p "$tmp/$side" "$tmp/jupyter/kernels/ppf-$side"
  echo "building $side kernel from $src ($(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo 'not a git tree'))" >&2
  (cd "$src" && go build -o "$tmp/$side/ppf-kernel" ./cmd/ppf-kernel)
  # kernel.json: the kernel's own install if it works, renamed; else a minimal one.
  if JUPYTER_DATA_DIR="$tmp/$side/jd" "$tmp/$side/ppf-kernel" install >/dev/null 2>&1 \
     && [ -f "$tmp/$side/jd/kernels/ppf/kernel.json" ]; then
    cp "$tmp/$side/jd/kernels/ppf/"* "$tmp/jupyter/kernels/ppf-$side/"
  else
    echo "  ($side: 'ppf-kernel install' failed; writing a minimal kernel.json)" >&2
    printf '{"argv": ["%s", "--connection-file", "{connection_file}"], "display_name": "Go (PPF)", "language": "go", "interrupt_mode": "signal"}\n' \
      "$tmp/$side/ppf-kernel" > "$tmp/jupyter/kernels/ppf-$side/kernel.json"
  fi
  /usr/bin/python3 - "$tmp/jupyter/kernels/ppf-$side/kernel.json" "$side" <<'EOF'
import json, sys
p, side = sys.argv[1], sys.argv[2]
spec = json.load(open(p))
spec["display_name"] = f"{spec.get('display_name', 'Go (PPF)')} {side}"
json.dump(spec, open(p, "w"), indent=1)
EOF
done

export JUPYTER_PATH="$tmp/jupyter" JUPYTER_DATA_DIR="$tmp/data" JUPYTER_RUNTIME_DIR="$tmp/runtime" \
       PYDEVD_DISABLE_FILE_VALIDATION=1
echo "bench.py: $bench; load average: $(cut -d' ' -f1-3 /proc/loadavg); raw samples: $raw" >&2
/usr/bin/python3 -Xfrozen_modules=off - "$bench" "$raw" "$@" <<'EOF'
import argparse, importlib.util, json, queue, statistics, sys, time

bench_path, raw_path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("bench", bench_path)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

ap = argparse.ArgumentParser()
ap.add_argument("--kernels", default="ppf-before,ppf-after,python3")
ap.add_argument("--starts", type=int, default=5, help="rounds; each starts every kernel once")
ap.add_argument("--executes", type=int, default=200, help="round trips per kernel, over all rounds")
args = ap.parse_args(sys.argv[3:])
names = args.kernels.split(",")
per_round = [args.executes // args.starts + (r < args.executes % args.starts) for r in range(args.starts)]


def wait_iopub(kc, timeout=30):
    """Untimed: wait until iopub delivers (the kernel_info reply on shell can
    come before the SUB socket has joined, and an execute's status messages
    would then be lost; seen with ipykernel 6.17, about 1 start in 3)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        msg_id = kc.kernel_info()
        try:
            while True:
                m = kc.get_iopub_msg(timeout=0.2)
                if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" \
                        and m["content"]["execution_state"] == "idle":
                    return
        except queue.Empty:
            pass
    raise RuntimeError(f"no iopub message in {timeout} s")


starts = {n: [] for n in names}
trips = {n: [] for n in names}
display = {}
for r in range(args.starts):
    order = names[r % len(names):] + names[:r % len(names)]
    for name in order:
        t, km, kc = bench.first_kernel_info(name)
        starts[name].append(t)
        display[name] = km.kernel_spec.display_name
        wait_iopub(kc)
        bench.round_trips(kc, 10)  # warm up
        trips[name] += bench.round_trips(kc, per_round[r])
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(f"round {r + 1}/{args.starts} ({', '.join(order)}) done", file=sys.stderr, flush=True)

with open(raw_path, "w") as f:
    json.dump({"bench": bench_path, "kernels": display, "starts": starts, "round_trips": trips}, f)
print(f"| kernel | start to first kernel_info_reply, ms (median, min-max of {args.starts}) "
      f"| execute_request round trip, ms (median, min-max of {args.executes}; p90) |")
print("| --- | --- | --- |")
for n in names:
    p90 = statistics.quantiles(trips[n], n=10)[-1] * 1e3
    print(f"| {display[n]} (`{n}`) | {bench.stats(starts[n])} | {bench.stats(trips[n])}; p90 {p90:.1f} |")
fast = {n: sum(x < 0.06 for x in starts[n]) for n in names}
print(f"\nstarts under 60 ms (bimodal: ~20 ms vs 120-220 ms; likely the client socket reconnect interval): {fast}", file=sys.stderr)
sys.stdout.flush(); sys.stderr.flush()
import os; os._exit(0)  # skip jupyter_client's noisy __del__ at interpreter exit; kernels are already shut down
EOF
