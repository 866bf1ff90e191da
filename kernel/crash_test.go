package kernel_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel/kerneltest"
)

// A crash the kernel cannot recover from (a panic in a goroutine that
// compiled code started, running a cell's function) leaves its message in
// the kernel's log: the process's standard error, which Jupyter keeps,
// not the captured descriptor the cells print to.
func TestCrashReachesTheLog(t *testing.T) {
	kerneltest.RequirePython(t, "jupyter_client")
	env, _ := kerneltest.Install(t)
	script := `
import time
from jupyter_client import KernelManager
km = KernelManager(kernel_name="ppf")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=30)
kc.execute('import "time"\ntime.AfterFunc(10*time.Millisecond, func() { panic("late crash") })')
for _ in range(100):
    if not km.is_alive():
        break
    time.sleep(0.05)
print("dead" if not km.is_alive() else "alive")
kc.stop_channels()
if km.is_alive():
    km.shutdown_kernel(now=True)
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kerneltest.Python, "-c", script)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	if got := strings.TrimSpace(stdout.String()); got != "dead" {
		t.Fatalf("the kernel is %s after a panic in a timer's goroutine; stderr: %s", got, stderr.Bytes())
	}
	if !strings.Contains(stderr.String(), "panic: late crash") || !strings.Contains(stderr.String(), "goroutine ") {
		t.Errorf("the kernel's log lacks the crash:\n%s", stderr.Bytes())
	}
}
