//go:build linux

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSlurm starts the single-node Slurm of scripts/slurm-local.sh for
// one test and stops it when the test ends. Without Slurm (or root) the
// test skips, saying how to get it; under CI it fails instead, since
// test.sh installs Slurm there. PPF_SLURM_DIR names a cluster already
// started by the script, used as it is and left running.
func startSlurm(t *testing.T) {
	t.Helper()
	need := func(why string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI installs Slurm in test.sh)", why)
		}
		t.Skipf("%s: apt-get install --no-install-recommends slurmctld slurmd slurm-client munge, as root", why)
	}
	for _, p := range []string{"sbatch", "scontrol", "sinfo", "slurmctld", "slurmd", "munged"} {
		if _, err := exec.LookPath(p); err != nil {
			need(p + " is not installed")
		}
	}
	if os.Geteuid() != 0 {
		need("the local Slurm runs as root")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "slurm-local.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir, shared := os.Getenv("PPF_SLURM_DIR"), true // its slurm.conf has its ports
	if dir == "" {
		dir, shared = t.TempDir(), false
	}
	// Two test runs at once (go test in two checkouts) must not share a
	// cluster: a pair of free ports for this one.
	port := freePortPair(t)
	sh := func(cmd string) {
		t.Helper()
		start := time.Now()
		c := exec.Command(script, cmd, dir)
		c.Env = append(os.Environ(), "PPF_SLURM_PORT="+strconv.Itoa(port))
		out, err := c.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "log", "slurmctld.log"))
			t.Fatalf("slurm-local.sh %s: %v\n%s\nslurmctld.log:\n%s", cmd, err, out, log)
		}
		t.Logf("slurm-local.sh %s: %.1f s", cmd, time.Since(start).Seconds())
	}
	sh("start")
	if !shared {
		t.Cleanup(func() { sh("stop") })
	}
	t.Setenv("SLURM_CONF", filepath.Join(dir, "slurm.conf"))
}

// freePortPair returns a port p such that p and p+1 are free now.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 20 {
		a, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		a.Close()
		if err == nil {
			b.Close()
			return p
		}
	}
	t.Fatal("no two adjacent free ports in 20 tries")
	return 0
}

// buildPPF builds this command into dir: the jobs run it by path.
func buildPPF(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "ppf")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ppf slurm on a real single-node Slurm: four shards, one of which fails
// (its file is locked, as by a collector still running elsewhere), is
// reported with its log, and is then completed by running the same
// command again. The merged dataset must equal a single-process
// collection record for record (timings aside), so a lost or duplicated
// shard fails the test, and the predictor trained from it must equal
// the one trained from the single-process data, byte for byte.
func TestSlurmPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Slurm cluster")
	}
	startSlurm(t)
	dir := t.TempDir()
	bin := buildPPF(t, dir)
	const samples = "40"
	ref, refPr := filepath.Join(dir, "ref.jsonl"), filepath.Join(dir, "ref-predictor.json")
	for _, c := range [][]string{
		args("collect", "--samples", samples, "--out", ref),
		// The flags the train job passes (ppf slurm's defaults).
		{"train-predictor", "--model", "stories260K", "--data", ref, "--out", refPr, "--test", "0.2", "--seed", "1"},
	} {
		if _, errOut, code := ppf(t, c...); code != 0 {
			t.Fatalf("ppf %v: exit %d: %s", c, code, errOut)
		}
	}

	// ppf slurm --wait, given minutes: a job stuck in the queue fails the
	// test with the progress so far instead of hanging it.
	wait := func(a ...string) (stdout, stderr string, code int) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var o, e bytes.Buffer
		code = run(ctx, a, &o, &e)
		if ctx.Err() != nil {
			t.Fatalf("ppf slurm --wait: still waiting after 3 minutes:\n%s\n%s", o.String(), e.String())
		}
		return o.String(), e.String(), code
	}

	out := filepath.Join(dir, "run")
	slurm := args("slurm", "--out", out, "--ppf", bin, "--shards", "4", "--samples", samples, "--agent-steps", "20", "--wait")

	// The injected failure: shard 2's file locked, as a collector still
	// writing it holds it; ppf collect refuses to write beside it.
	locked := filepath.Join(out, "shards", "2-of-4.jsonl")
	if err := os.MkdirAll(filepath.Dir(locked), 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.Create(locked)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stdout, stderr, code := wait(slurm...)
	t.Logf("first submission (shard 2 fails): %.1f s", time.Since(start).Seconds())
	lock.Close()
	log := filepath.Join(out, "logs", "collect-") // + JOBID_2.out
	for _, want := range []string{"shard 2 of 4", "FAILED", "exit code 1:0", log, "_2.out", "another collector is writing " + locked,
		"merge (job", "not run: a job before it failed", "run the same ppf slurm command again"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the failed run's report lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 || strings.Contains(stderr, "shard 0 of 4") || strings.Contains(stderr, "shard 1 of 4") || strings.Contains(stderr, "shard 3 of 4") {
		t.Errorf("first submission: exit %d, want 1 naming shard 2 only:\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "data.jsonl")); err == nil {
		t.Error("the merge ran although a shard failed")
	}

	start = time.Now()
	stdout, stderr, code = wait(slurm...)
	t.Logf("resubmission (shard 2 only, merge, training): %.1f s", time.Since(start).Seconds())
	if code != 0 || !strings.Contains(stdout, "3 of 4 shards are complete in "+out+"; collecting the unfinished shard 2\n") || !strings.Contains(stdout, "(array 2:") {
		t.Fatalf("resubmission: exit %d, want an array of shard 2 alone:\n%s\n%s", code, stdout, stderr)
	}
	got, want := loadClean(t, filepath.Join(out, "data.jsonl")), loadClean(t, ref)
	if len(got) != len(want) {
		t.Errorf("merged %d records, the single process %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("record %d differs:\nslurm  %s\nsingle %s", i+1, got[i], want[i])
			break
		}
	}
	a, errA := os.ReadFile(filepath.Join(out, "predictor.json"))
	b, errB := os.ReadFile(refPr)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the predictor trained under Slurm differs from the one trained on the single-process data (%v, %v)", errA, errB)
	}
	if _, err := os.Stat(filepath.Join(out, "agent.json")); err != nil {
		t.Error(err)
	}
}
