"""Startup and round-trip times of the PPF kernel and of ipykernel.

For each kernel, in the same run and through the same client
(jupyter_client): the time from starting the process to the first
kernel_info_reply, over several starts, and the round trip of a trivial
execute_request ("1 + 1": request sent to execute_reply received, the
result's iopub messages drained before the next one). Prints a Markdown
table of medians (and min-max) for the README.

    kernel/bench/run.sh           # builds ppf-kernel, installs it in a temp folder, runs this

Needs Debian's python3-jupyter-client and python3-ipykernel.
"""
import argparse
import statistics
import time

from jupyter_client.manager import KernelManager


def first_kernel_info(name):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    while True:
        msg_id = kc.kernel_info()
        try:
            while True:
                rep = kc.get_shell_msg(timeout=0.05)
                if rep["parent_header"].get("msg_id") == msg_id:
                    return time.perf_counter() - t0, km, kc
        except Exception:  # no reply yet: the sockets are not bound, ask again
            if time.perf_counter() - t0 > 60:
                raise RuntimeError(f"{name}: no kernel_info_reply in 60 s")


def drain_iopub(kc, msg_id):
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return


def round_trips(kc, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        msg_id = kc.execute("1 + 1")
        while True:
            rep = kc.get_shell_msg(timeout=10)
            if rep["parent_header"].get("msg_id") == msg_id:
                break
        times.append(time.perf_counter() - t0)
        assert rep["content"]["status"] == "ok", rep["content"]
        drain_iopub(kc, msg_id)
    return times


def stats(xs, unit=1e3):
    return f"{statistics.median(xs) * unit:.1f} ({min(xs) * unit:.1f}-{max(xs) * unit:.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", default="ppf,python3")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--executes", type=int, default=200)
    args = ap.parse_args()
    rows = []
    for name in args.kernels.split(","):
        starts, trips = [], []
        for i in range(args.starts):
            t, km, kc = first_kernel_info(name)
            starts.append(t)
            if i == 0:
                round_trips(kc, 10)  # warm up
                trips = round_trips(kc, args.executes)
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        rows.append((name, km.kernel_spec.display_name, stats(starts), stats(trips)))
    print(f"| kernel | start to first kernel_info_reply, ms (median, min-max of {args.starts}) "
          f"| execute_request round trip, ms (median, min-max of {args.executes}) |")
    print("| --- | --- | --- |")
    for name, display, s, r in rows:
        print(f"| {display} (`{name}`) | {s} | {r} |")


if __name__ == "__main__":
    main()
