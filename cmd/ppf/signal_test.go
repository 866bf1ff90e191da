//go:build unix

package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The second Ctrl-C ends ppf at once, whatever stage it is in (the first
// cancels what checks the context; tokenizing a long text does not).
func TestSecondInterruptQuits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the ppf binary")
	}
	bin := filepath.Join(t.TempDir(), "ppf")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building ppf: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "eval", "--model", "stories260K", "--data", "wikitext-2-raw/wiki.test.raw", "--seqlen", "256")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	second := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "ppf: stopping") {
			t.Errorf("after two interrupts: %v (want exit status 130 and \"ppf: stopping\"); stderr:\n%s", err, stderr.String())
		}
		if d := time.Since(second); d > time.Second {
			t.Errorf("ppf took %v to quit after the second interrupt", d)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ppf still runs 10 s after two interrupts; stderr:\n%s", stderr.String())
	}
}
