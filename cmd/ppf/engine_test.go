package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// --stats adds tokens/s on stderr and leaves stdout, the generated text,
// as it was. stdout is not a terminal here, so the statistics start on a
// line of their own.
func TestGenerateStats(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(native.ModelsDir(), "..", "reference", "stories260K-greedy-200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := ppf(t, "generate", "--model", "stories260K", "--temperature", "0", "--steps", "200", "--stats")
	if code != 0 || out != string(want) {
		t.Errorf("exit %d, stderr %q\nstdout %q\nwant   %q", code, errOut, out, want)
	}
	stats := regexp.MustCompile(`^\nprompt: 1 tokens in [0-9.]+ ms, [0-9.]+ tokens/s\ngeneration: 199 tokens in [0-9.]+ ms, [0-9.]+ tokens/s( \([0-9.]+ ms of it packing the weights for decoding\))?\n$`)
	if !stats.MatchString(errOut) {
		t.Errorf("stderr %q is not the two lines of statistics", errOut)
	}
}
