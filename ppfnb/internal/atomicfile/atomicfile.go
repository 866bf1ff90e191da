// Package atomicfile writes files through a temporary file renamed into
// place, so that a crash or an error leaves either the old file or the new
// one whole, never a torn mix. The predictor, agent and dataset files use it.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write writes what write produces to path atomically.
func Write(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
