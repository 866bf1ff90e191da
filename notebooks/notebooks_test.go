package notebooks

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel"
	"github.com/ppfkit/ppf/native"
)

// Debian's Python, where apt installs Jupyter (a python3 earlier on PATH
// may not see it), and the packages the test needs.
const (
	python      = "/usr/bin/python3"
	aptPackages = "jupyter-client jupyter-nbconvert python3-nbclient python3-ipykernel"
)

// tutorials are the notebooks this test executes, in order, with the
// checks of their outputs.
var tutorials = []struct {
	file  string
	check func(t *testing.T, nb *executed)
}{
	{"01-quickstart.ipynb", checkQuickstart},
	{"02-pruning-methods.ipynb", checkMethods},
	{"03-predictor.ipynb", checkPredictor},
	{"04-agent.ipynb", checkAgent},
	{"05-browser.ipynb", checkBrowser},
	{"06-your-own-model.ipynb", checkOwnModel},
}

// TestCommittedWithoutOutputs checks that every committed notebook is
// clean: no outputs, no execution counts (run "Clear All Outputs" before
// saving), and that each tutorial is run by TestNotebooks.
func TestCommittedWithoutOutputs(t *testing.T) {
	files, err := filepath.Glob("*.ipynb")
	if err != nil || len(files) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	for _, f := range files {
		nb := readNotebook(t, f)
		for _, c := range nb.Cells {
			if len(c.Outputs) > 0 || string(c.ExecutionCount) != "null" && len(c.ExecutionCount) > 0 {
				t.Errorf("%s, cell %s: committed with outputs or an execution count; clear them (Jupyter: Edit > Clear All Outputs) before committing", f, c.ID)
			}
			if c.ID == "" {
				t.Errorf("%s: a cell without an id; save it with nbformat 4.5 or later", f)
			}
		}
		if nb.Metadata.Kernelspec.Name != kernel.SpecName {
			t.Errorf("%s: kernelspec %q, want %q", f, nb.Metadata.Kernelspec.Name, kernel.SpecName)
		}
		known := f == "smoke.ipynb" // run by the kernel's own tests
		for _, tu := range tutorials {
			known = known || tu.file == f
		}
		if !known {
			t.Errorf("%s is not executed by TestNotebooks: add it to tutorials", f)
		}
	}
}

// TestNotebooks executes every tutorial with the real Jupyter client and
// the PPF kernel, one after the other, and checks its outputs.
func TestNotebooks(t *testing.T) {
	requireJupyter(t)
	if _, _, err := native.ResolveModel("stories260K"); err != nil {
		t.Skipf("the shared models are missing: %v", err)
	}
	env, dir := installKernel(t)
	total := time.Now()
	for _, tu := range tutorials {
		t.Run(strings.TrimSuffix(tu.file, ".ipynb"), func(t *testing.T) {
			start := time.Now()
			nb := execute(t, env, dir, tu.file)
			t.Logf("%s executed in %.1f s", tu.file, time.Since(start).Seconds())
			tu.check(t, nb)
		})
	}
	t.Logf("all notebooks executed in %.1f s", time.Since(total).Seconds())
}

// requireJupyter skips the test under -short or without Jupyter's Python
// modules, and fails it instead when the environment variable CI is set.
func requireJupyter(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("executes the notebooks with the real Jupyter client: skipped with -short")
	}
	out, err := exec.Command(python, "-c", "import nbconvert, nbclient, jupyter_client").CombinedOutput()
	if err != nil {
		msg := "needs nbconvert, nbclient and jupyter_client (apt-get install -y " + aptPackages + "): " + strings.TrimSpace(string(out))
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
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ppfkit/ppf/cmd/ppf-kernel").CombinedOutput(); err != nil {
		t.Fatalf("building ppf-kernel: %v\n%s", err, out)
	}
	if _, err := kernel.Install(filepath.Join(dir, "jupyter", "kernels"), kernel.NewSpec(bin)); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(dir, "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_DATA_DIR="+filepath.Join(dir, "data"),
		"JUPYTER_PLATFORM_DIRS=1",
		"PYTHONDONTWRITEBYTECODE=1",
		"TMPDIR="+dir, // what the notebooks write to os.TempDir() goes away with the test
	)
	return env, dir
}

// execute runs one notebook through nbconvert and returns it executed.
// An error output in any cell fails the test.
func execute(t *testing.T, env []string, dir, file string) *executed {
	t.Helper()
	src, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSuffix(file, ".ipynb") + ".executed.ipynb"
	cmd := exec.Command(python, "-m", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name="+kernel.SpecName, "--ExecutePreprocessor.timeout=300",
		"--output-dir", dir, "--output", out, src)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute %s: %v\n%s", file, err, b)
	}
	nb := readNotebook(t, filepath.Join(dir, out))
	if keep := os.Getenv("PPF_NOTEBOOK_OUT"); keep != "" {
		b, _ := os.ReadFile(filepath.Join(dir, out))
		if err := os.WriteFile(filepath.Join(keep, out), b, 0o644); err != nil {
			t.Log(err)
		}
	}
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				t.Fatalf("%s, cell %s failed: %s: %s", file, c.ID, o.Ename, o.Evalue)
			}
		}
	}
	return nb
}

// executed is the part of an .ipynb file the tests read.
type executed struct {
	Cells []struct {
		ID             string          `json:"id"`
		CellType       string          `json:"cell_type"`
		ExecutionCount json.RawMessage `json:"execution_count"`
		Outputs        []output        `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

type output struct {
	OutputType string               `json:"output_type"`
	Name       string               `json:"name"`
	Text       multiline            `json:"text"`
	Data       map[string]multiline `json:"data"`
	Ename      string               `json:"ename"`
	Evalue     string               `json:"evalue"`
}

// multiline is nbformat's text: a string or a list of lines.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err == nil {
		*m = multiline(strings.Join(lines, ""))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*m = multiline(b) // JSON data (application/json): kept as it is
		return nil
	}
	*m = multiline(s)
	return nil
}

func readNotebook(t *testing.T, path string) *executed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb executed
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &nb
}

// outputs returns the outputs of the cell with the given id, failing the
// test when there is no such cell.
func (nb *executed) outputs(t *testing.T, id string) []output {
	t.Helper()
	for _, c := range nb.Cells {
		if c.ID == id {
			return c.Outputs
		}
	}
	t.Fatalf("no cell %q", id)
	return nil
}

// text returns everything the cell printed and its result's text, and
// what it showed in the given MIME type (text/plain when "").
func (nb *executed) text(t *testing.T, id, mime string) string {
	t.Helper()
	if mime == "" {
		mime = "text/plain"
	}
	var sb strings.Builder
	for _, o := range nb.outputs(t, id) {
		if o.OutputType == "stream" && mime == "text/plain" {
			sb.WriteString(string(o.Text))
		}
		sb.WriteString(string(o.Data[mime]))
	}
	return sb.String()
}

// images counts the PNG images the cell showed.
func (nb *executed) images(t *testing.T, id string) int {
	t.Helper()
	n := 0
	for _, o := range nb.outputs(t, id) {
		if len(o.Data["image/png"]) > 1000 {
			n++
		}
	}
	return n
}

// number finds the first number after prefix in s (a table cell, say)
// and fails the test when there is none.
func number(t *testing.T, s, prefix string) float64 {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `\s*(-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?)`)
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no number after %q in:\n%s", prefix, s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
