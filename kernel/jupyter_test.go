package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Debian's Python, where apt installs the Jupyter packages (a python3
// earlier on PATH, such as pyenv's, may not see them).
const python = "/usr/bin/python3"

// aptPackages are what the real-client tests need.
const aptPackages = "python3-jupyter-kernel-test jupyter-client jupyter-nbconvert python3-nbclient python3-ipykernel"

// requirePython skips the test when Debian's Jupyter modules are missing,
// or fails it when the environment variable CI is set: CI must run them.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real Jupyter client: skipped with -short")
	}
	script := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(python, "-c", script).CombinedOutput(); err != nil {
		msg := "needs the Python modules " + strings.Join(modules, ", ") + " (apt-get install -y " + aptPackages + "): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// installKernel builds ppf-kernel and installs its kernelspec under a
// temporary JUPYTER_PATH; it returns the environment that makes Jupyter
// find it, and the folder.
func installKernel(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ppf-kernel")
	build := exec.Command("go", "build", "-o", bin, "github.com/ppfkit/ppf/cmd/ppf-kernel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building ppf-kernel: %v\n%s", err, out)
	}
	if _, err := Install(filepath.Join(dir, "jupyter", "kernels"), NewSpec(bin)); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(dir, "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_DATA_DIR="+filepath.Join(dir, "data"),
		"JUPYTER_PLATFORM_DIRS=1",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	return env, dir
}

// TestJupyterKernelTest runs jupyter_kernel_test's suite (every test it
// offers, with code samples) through the real Jupyter client.
func TestJupyterKernelTest(t *testing.T) {
	requirePython(t, "jupyter_kernel_test", "jupyter_client")
	env, _ := installKernel(t)
	cmd := exec.Command(python, "-m", "unittest", "-v", "test_ppf_kernel")
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
	requirePython(t, "jupyter_client")
	env, dir := installKernel(t)
	cmd := exec.Command(python, "-m", "jupyter_client.kernelspecapp", "list")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupyter kernelspec list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ppf") || !strings.Contains(string(out), dir) {
		t.Errorf("jupyter kernelspec list does not show ppf in %s:\n%s", dir, out)
	}
}
