//go:build !unix

package kernel

import (
	"io"
	"os"
)

// captureStdio sends what the process writes to file descriptors 1 and 2
// (compiled code's fmt.Println, a library's progress bar) to stdout and
// stderr, as ipykernel does, so that it reaches the notebook instead of
// the terminal that started Jupyter. It returns a duplicate of the
// original stderr, for the kernel's own log; sync, which waits until what
// was written so far has been passed on; and restore, which puts the
// descriptors back. Without POSIX descriptors it captures nothing: cells'
// own prints still reach the notebook.
func captureStdio(stdout, stderr io.Writer) (origStderr *os.File, sync func(), restore func(), err error) {
	return os.Stderr, func() {}, func() {}, nil
}
