package notebooks

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel"
	"github.com/ppfkit/ppf/kernel/kerneltest"
	"github.com/ppfkit/ppf/native"
)

// tutorials are the notebooks this test executes, in order, with the
// checks of their outputs.
var tutorials = []struct {
	file  string
	check func(t *testing.T, nb *kerneltest.Notebook)
}{
	{"01-quickstart.ipynb", checkQuickstart},
	{"02-pruning-methods.ipynb", checkMethods},
	{"03-predictor.ipynb", checkPredictor},
	{"04-agent.ipynb", checkAgent},
	{"05-browser.ipynb", checkBrowser},
	{"06-your-own-model.ipynb", checkOwnModel},
	{"07-duel.ipynb", checkDuel},
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
		nb := kerneltest.Read(t, f)
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
	env, dir := kerneltest.Install(t)
	total := time.Now()
	for _, tu := range tutorials {
		t.Run(strings.TrimSuffix(tu.file, ".ipynb"), func(t *testing.T) {
			start := time.Now()
			nb := kerneltest.Execute(t, env, dir, tu.file)
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
	kerneltest.RequirePython(t, "nbconvert", "nbclient", "jupyter_client")
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
