//go:build unix

package kernel

import (
	"os"
	"syscall"
	"testing"
)

func interruptProcess(t *testing.T) {
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
}

func TestSIGINT(t *testing.T) {
	c, _ := startKernel(t)
	interruptLoop(t, c, "SIGINT")
}
