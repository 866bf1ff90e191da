package kernel_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/kernel/kerneltest"
)

// TestJupyterKernelTest runs jupyter_kernel_test's suite (every test it
// offers, with code samples) through the real Jupyter client.
func TestJupyterKernelTest(t *testing.T) {
	kerneltest.RequirePython(t, "jupyter_kernel_test", "jupyter_client")
	env, _ := kerneltest.Install(t)
	cmd := exec.Command(kerneltest.Python, "-m", "unittest", "-v", "test_ppf_kernel")
	cmd.Dir = "testdata"
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Log(out.String())
	if err != nil {
		t.Fatalf("jupyter_kernel_test failed: %v", err)
	}
	if strings.Contains(out.String(), "skipped") {
		t.Errorf("some of jupyter_kernel_test's tests were skipped: give them code samples")
	}
}

// TestKernelspecList checks that `jupyter kernelspec list` shows the
// installed kernel.
func TestKernelspecList(t *testing.T) {
	kerneltest.RequirePython(t, "jupyter_client")
	env, dir := kerneltest.Install(t)
	cmd := exec.Command(kerneltest.Python, "-m", "jupyter_client.kernelspecapp", "list")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupyter kernelspec list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ppf") || !strings.Contains(string(out), dir) {
		t.Errorf("jupyter kernelspec list does not show ppf in %s:\n%s", dir, out)
	}
}
