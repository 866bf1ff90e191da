//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// A second collector on the --out of a running one fails at once with
// the lock error, and the first one's file holds every sample once.
func TestCollectLock(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		var out, errOut strings.Builder
		done <- run(ctx, args("collect", "--samples", "400", "--out", data), &out, &errOut)
	}()
	// Wait for the first collector's first record: it holds the lock.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(data); strings.Contains(string(b), "\n") {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("the first collector wrote no record in 60 s")
		}
	}
	// The same command again, given a few seconds: without the lock it
	// would resume the first one's file and measure into it too.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	var outB, errB strings.Builder
	code := run(ctx2, args("collect", "--samples", "400", "--out", data), &outB, &errB)
	cancel2()
	out, errOut := outB.String(), errB.String()
	cancel()
	<-done
	if code == 0 || out != "" || !strings.Contains(errOut, "another collector is writing "+data) {
		t.Errorf("second collector: exit %d, stdout %q, stderr %q; want the lock error", code, out, errOut)
	}
	d, err := predictor.LoadDataset(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range d {
		if seen[r.Source] {
			t.Errorf("line %d: sample %s is in the file twice", i+1, r.Source)
		}
		seen[r.Source] = true
	}
}
