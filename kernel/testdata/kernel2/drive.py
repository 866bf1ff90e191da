"""Runs cells through the PPF kernel with jupyter_client, the real Jupyter
client, and prints what each showed as JSON.

Run by kernel/kernel2_test.go, which builds ppf-kernel and installs its
kernelspec under a temporary JUPYTER_PATH. Standard input is a JSON list of
steps, each {"code": the cell, "timeout": seconds to wait for its reply,
"pause": seconds to wait before sending it, "interrupt_after": seconds
after sending it to call KernelManager.interrupt_kernel (a SIGINT, the
spec's interrupt_mode), "cpu_after": seconds to wait after its reply
before sampling the kernel's CPU time again}. Standard output is a JSON
list with, for each step, the execute_reply's content, the cell's iopub
outputs, the seconds from the request to the reply (and from the
interrupt to the reply), and the kernel process's CPU time (user and
system, in seconds) at the reply and cpu_after later.
"""
import json
import os
import sys
import time

from jupyter_client import KernelManager

KEEP = ("name", "text", "data", "ename", "evalue", "traceback")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(km, kc, step):
    timeout = step.get("timeout", 30)
    if step.get("pause"):
        time.sleep(step["pause"])
    sent = time.monotonic()
    msg_id = kc.execute(step["code"], stop_on_error=False)
    interrupted = []
    if "interrupt_after" in step:
        time.sleep(step["interrupt_after"])
        interrupted.append(time.monotonic())
        km.interrupt_kernel()
    deadline = sent + timeout
    reply = None
    while reply is None:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            reply = msg
    replied = time.monotonic()
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            break
        if t in ("status", "execute_input"):
            continue
        out = {"type": t}
        out.update({k: v for k, v in msg["content"].items() if k in KEEP})
        outputs.append(out)
    res = {
        "reply": {k: reply["content"].get(k) for k in ("status", "execution_count", "ename", "evalue", "traceback")},
        "outputs": outputs,
        "seconds": replied - sent,
        "cpu": [cpu_seconds(km.provisioner.pid)],
    }
    if interrupted:
        res["after_interrupt"] = replied - interrupted[0]
    if step.get("cpu_after"):
        time.sleep(step["cpu_after"])
        res["cpu"].append(cpu_seconds(km.provisioner.pid))
    return res


def main():
    steps = json.load(sys.stdin)
    km = KernelManager(kernel_name="ppf")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    results = []
    try:
        kc.wait_for_ready(timeout=60)
        for step in steps:
            results.append(run(km, kc, step))
    finally:
        json.dump(results, sys.stdout)
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
