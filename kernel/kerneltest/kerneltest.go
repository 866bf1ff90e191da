// Package kerneltest lets tests drive the PPF kernel with the real Jupyter
// client: it checks for Debian's Jupyter modules, installs the kernel
// under a temporary JUPYTER_PATH, executes notebooks with nbconvert and
// reads what they showed. The kernel's own tests and the tutorials' test
// (package notebooks) use it; GoNB's internal/nbtests is the model.
package kerneltest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppfkit/ppf/kernel"
)

// Python is Debian's Python, where apt installs Jupyter (a python3 earlier
// on PATH may not see it).
const Python = "/usr/bin/python3"

// AptPackages are the Debian packages the real-client tests need.
const AptPackages = "python3-jupyter-kernel-test jupyter-client jupyter-nbconvert python3-nbclient python3-ipykernel"

// RequirePython skips the test when Debian's Python lacks one of the
// modules, and fails it instead when the environment variable CI is set.
func RequirePython(t testing.TB, modules ...string) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
	if err != nil {
		msg := "needs the Python modules " + strings.Join(modules, ", ") + " (apt-get install -y " + AptPackages + "): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Install builds ppf-kernel and installs its kernelspec under a temporary
// JUPYTER_PATH; it returns the environment that makes Jupyter find it,
// and the folder (also the TMPDIR of what runs in that environment).
func Install(t testing.TB) (env []string, dir string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "ppf-kernel")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ppfkit/ppf/cmd/ppf-kernel").CombinedOutput(); err != nil {
		t.Fatalf("building ppf-kernel: %v\n%s", err, out)
	}
	if _, err := kernel.Install(filepath.Join(dir, "jupyter", "kernels"), kernel.NewSpec(bin)); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(dir, "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_DATA_DIR="+filepath.Join(dir, "data"),
		"JUPYTER_PLATFORM_DIRS=1",
		"PYTHONDONTWRITEBYTECODE=1",
		"TMPDIR="+dir, // what notebooks write to os.TempDir() goes away with the test
	)
	return env, dir
}

// Execute runs the notebook at path through `jupyter nbconvert --to
// notebook --execute` with the PPF kernel installed by Install, and
// returns it executed. An error output in any cell fails the test. With
// PPF_NOTEBOOK_OUT set, the executed notebook is also copied there.
func Execute(t testing.TB, env []string, dir, path string) *Notebook {
	t.Helper()
	src, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSuffix(filepath.Base(path), ".ipynb") + ".executed.ipynb"
	cmd := exec.Command(Python, "-m", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name="+kernel.SpecName, "--ExecutePreprocessor.timeout=300",
		"--output-dir", dir, "--output", out, src)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute %s: %v\n%s", path, err, b)
	}
	nb := Read(t, filepath.Join(dir, out))
	if keep := os.Getenv("PPF_NOTEBOOK_OUT"); keep != "" {
		b, _ := os.ReadFile(filepath.Join(dir, out))
		if err := os.WriteFile(filepath.Join(keep, out), b, 0o644); err != nil {
			t.Log(err)
		}
	}
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				t.Fatalf("%s, cell %d (%s) failed: %s: %s", path, i, c.ID, o.Ename, o.Evalue)
			}
		}
	}
	return nb
}

// Notebook is the part of an .ipynb file the tests read.
type Notebook struct {
	Cells []struct {
		ID             string          `json:"id"`
		CellType       string          `json:"cell_type"`
		ExecutionCount json.RawMessage `json:"execution_count"`
		Outputs        []Output        `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

// Output is one output of a cell.
type Output struct {
	OutputType string               `json:"output_type"`
	Name       string               `json:"name"`
	Text       Multiline            `json:"text"`
	Data       map[string]Multiline `json:"data"`
	Ename      string               `json:"ename"`
	Evalue     string               `json:"evalue"`
}

// Multiline is nbformat's text: a string or a list of lines.
type Multiline string

// UnmarshalJSON joins a list of lines; other JSON data (application/json)
// is kept as it is.
func (m *Multiline) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err == nil {
		*m = Multiline(strings.Join(lines, ""))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*m = Multiline(b)
		return nil
	}
	*m = Multiline(s)
	return nil
}

// Read reads a notebook file.
func Read(t testing.TB, path string) *Notebook {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb Notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &nb
}

// Outputs returns the outputs of the cell with the given id, failing the
// test when there is no such cell.
func (nb *Notebook) Outputs(t testing.TB, id string) []Output {
	t.Helper()
	for _, c := range nb.Cells {
		if c.ID == id {
			return c.Outputs
		}
	}
	t.Fatalf("no cell %q", id)
	return nil
}

// Text returns everything the cell printed and its result's text, and
// what it showed in the given MIME type (text/plain when "").
func (nb *Notebook) Text(t testing.TB, id, mime string) string {
	t.Helper()
	if mime == "" {
		mime = "text/plain"
	}
	var sb strings.Builder
	for _, o := range nb.Outputs(t, id) {
		if o.OutputType == "stream" && mime == "text/plain" {
			sb.WriteString(string(o.Text))
		}
		sb.WriteString(string(o.Data[mime]))
	}
	return sb.String()
}

// Images counts the PNG images the cell showed.
func (nb *Notebook) Images(t testing.TB, id string) int {
	t.Helper()
	n := 0
	for _, o := range nb.Outputs(t, id) {
		if len(o.Data["image/png"]) > 1000 {
			n++
		}
	}
	return n
}
