//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb"
)

// The second Ctrl-C ends ppf at once, whatever stage it is in (the first
// cancels the context, which every long stage checks).
func TestSecondInterruptQuits(t *testing.T) {
	cmd, stderr := startPPF(t, "eval", "--model", "stories260K", "--data", wiki, "--seqlen", "256")
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	interrupted(t, cmd, stderr, "ppf: stopping", time.Second)
}

// The first Ctrl-C stops a long tokenization: 80 MB of text take seconds
// to encode (with an unchecked tokenizer ppf ended 5.2 s after the
// interrupt on this project's 2-core machine), and ppf ends well before.
func TestInterruptStopsTokenizing(t *testing.T) {
	text, err := os.ReadFile(ppfnb.ResolveData(wiki))
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(big, bytes.Repeat(text, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := startPPF(t, "eval", "--model", "stories260K", "--data", big)
	time.Sleep(400 * time.Millisecond) // loaded the model, reading or encoding the text
	cmd.Process.Signal(syscall.SIGINT)
	interrupted(t, cmd, stderr, "ppf: interrupted", 2500*time.Millisecond)
}

// startPPF builds ppf and starts it with args.
func startPPF(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the ppf binary")
	}
	bin := filepath.Join(t.TempDir(), "ppf")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building ppf: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// interrupted checks that cmd, just signalled, exits with status 130 and
// says want within limit.
func interrupted(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, want string, limit time.Duration) {
	t.Helper()
	sent := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), want) {
			t.Errorf("after the interrupt: %v (want exit status 130 and %q); stderr:\n%s", err, want, stderr.String())
		}
		if d := time.Since(sent); d > limit {
			t.Errorf("ppf took %v to end after the interrupt (limit %v)", d, limit)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ppf still runs 20 s after the interrupt; stderr:\n%s", stderr.String())
	}
}
