package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Spec is a kernelspec's kernel.json.
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata,omitempty"`
}

// SpecName is the kernel's name in `jupyter kernelspec list`.
const SpecName = "ppf"

// NewSpec returns the kernelspec that runs the binary at exe.
func NewSpec(exe string) Spec {
	return Spec{
		Argv:          []string{exe, "--connection-file", "{connection_file}"},
		DisplayName:   "Go (PPF)",
		Language:      "go",
		InterruptMode: "signal",
	}
}

// UserKernelsDir is where Jupyter looks for the user's kernelspecs:
// $JUPYTER_DATA_DIR/kernels, else the platform's Jupyter data folder.
func UserKernelsDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Join(d, "kernels"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home folder for the user install: %w (use --prefix)", err)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter", "kernels"), nil
	case "windows":
		return filepath.Join(os.Getenv("APPDATA"), "jupyter", "kernels"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter", "kernels"), nil
	}
	return filepath.Join(home, ".local", "share", "jupyter", "kernels"), nil
}

// PrefixKernelsDir is where Jupyter looks for kernelspecs installed under
// an environment's prefix (such as /usr/local or a virtualenv).
func PrefixKernelsDir(prefix string) string {
	return filepath.Join(prefix, "share", "jupyter", "kernels")
}

// Install writes spec as kernelsDir/ppf/kernel.json and returns the folder.
func Install(kernelsDir string, spec Spec) (string, error) {
	dir := filepath.Join(kernelsDir, SpecName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the kernelspec folder: %w", err)
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing the kernelspec: %w", err)
	}
	return dir, nil
}
