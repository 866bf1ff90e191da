package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ppfkit/ppf/native"
)

// slurmEnv gives ppf slurm a fake ppf binary (the jobs' path to it, never
// run here) and absolute model and text folders, and returns a function
// that writes those machine-dependent paths as fixed ones.
func slurmEnv(t *testing.T) (bin string, fix func(string) string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "ppf")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	models, err := filepath.Abs(native.ModelsDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs(native.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PPF_MODELS", models)
	t.Setenv("PPF_DATA", data)
	return bin, strings.NewReplacer(bin, "/opt/ppf/bin/ppf", models, "/shared/models", data, "/shared/data").Replace
}

// The --dry-run script of a GPU run is the golden file
// testdata/slurm-dry-run.sh (rewritten by -update, with docs/cli.md), and
// valid bash.
func TestSlurmDryRun(t *testing.T) {
	bin, fix := slurmEnv(t)
	out, errOut, code := ppf(t, "slurm", "--model", "stories260K", "--out", "/scratch/ppf-run", "--ppf", bin, "--shards", "8", "--samples", "4000",
		"--backend", "cuda-bf16", "--gpus", "1", "--partition", "gpu", "--time", "2:00:00", "--cpus-per-task", "4", "--mem", "16G", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := fix(out)
	golden := filepath.Join("testdata", "slurm-dry-run.sh")
	if *updateCLIDoc {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("ppf slurm --dry-run differs from %s (go test ./cmd/ppf -run 'TestSlurmDryRun|TestCLIReference' -update):\n%s", golden, got)
	}
	if _, err := os.Stat("/scratch/ppf-run"); err == nil {
		t.Error("--dry-run made the output folder")
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("the dry run is not valid bash: %v\n%s", err, b)
		}
	}
}

// With shard 1 of 4 collected, the dry run's array holds the other three
// shards, and the merge still names all four files.
func TestSlurmDryRunResumes(t *testing.T) {
	bin, _ := slurmEnv(t)
	out := t.TempDir()
	shard := filepath.Join(out, "shards", "1-of-4.jsonl")
	os.MkdirAll(filepath.Dir(shard), 0o755)
	slurm := args("slurm", "--out", out, "--ppf", bin, "--shards", "4", "--samples", "8", "--dry-run")
	for _, c := range [][]string{
		args("collect", "--samples", "8", "--shard", "1/4", "--out", shard),
		slurm,
	} {
		stdout, errOut, code := ppf(t, c...)
		if code != 0 {
			t.Fatalf("ppf %v: exit %d: %s", c, code, errOut)
		}
		if c[0] != "slurm" {
			continue
		}
		merge := stdout[strings.Index(stdout, "ppf collect --merge"):]
		for _, want := range []string{"#SBATCH --array=0,2-3\n", "unfinished shards 0,2-3 (1 of 4 complete)", "/0-of-4.jsonl", "/1-of-4.jsonl", "/2-of-4.jsonl", "/3-of-4.jsonl"} {
			if want[0] == '/' {
				want = filepath.Join(out, "shards") + want
			}
			if !strings.Contains(stdout, want) || strings.HasSuffix(want, ".jsonl") && !strings.Contains(merge, want) {
				t.Errorf("the dry run (its merge, for a shard file) lacks %q:\n%s", want, stdout)
			}
		}
	}
	// A folder of another collection is refused, naming both settings.
	os.WriteFile(filepath.Join(out, "ppf-slurm.json"), []byte(`{"collect":["--seed","9"],"shards":4}`), 0o644)
	_, errOut, code := ppf(t, slurm...)
	if code != 1 || !strings.Contains(errOut, "was collected with --shards 4 --seed 9; this command asks --shards 4 --model stories260K") {
		t.Errorf("another collection's folder: exit %d, %s", code, errOut)
	}
}

// Bad flags: one error line naming the flag, before any job is written.
func TestSlurmBadFlags(t *testing.T) {
	bin, _ := slurmEnv(t)
	out := filepath.Join(t.TempDir(), "run")
	base := []string{"slurm", "--out", out, "--ppf", bin, "--dry-run"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"slurm", "--dry-run"}, "--out is required"},
		// This test binary lives where go run's binaries do.
		{[]string{"slurm", "--out", out, "--dry-run"}, "this ppf runs from go run's temporary folder"},
		{[]string{"--backend", "cuda-bf16"}, "--backend cuda-bf16 measures on a GPU: ask for one per task with --gpus 1"},
		{[]string{"--gpus", "1"}, "--gpus 1 with --backend cpu reserves GPUs no task uses"},
		{[]string{"--backend", "gpu", "--gpus", "1"}, `--backend "gpu": use cpu, cuda or cuda-bf16`},
		{[]string{"--gpus", "-1"}, "--gpus must be zero or a positive number of GPUs"},
		{[]string{"--time", "2h"}, `--time "2h": write a Slurm time limit`},
		{[]string{"--mem", "2GB"}, `--mem "2GB": write a Slurm memory size`},
		{[]string{"--shards", "9", "--samples", "8"}, "--shards 9 is more than --samples 8"},
		{[]string{"--ratio-min", "0.5", "--ratio-max", "0.2"}, "--ratio-min 0.5 is above --ratio-max 0.2"},
		{[]string{"--partition", "a b"}, `--partition "a b"`},
		{[]string{"--model", "no-such-model"}, "no-such-model"},
		{[]string{"--ppf", out}, "--ppf " + out + ": not an executable file"},
		{[]string{"--out", "/scratch/my run"}, `--out "/scratch/my run": give a folder without spaces`},
		{[]string{"--wait"}, "--dry-run submits nothing to --wait for"},
		{[]string{"--kubernetes", filepath.Join(out, "k.yaml")}, "--kubernetes needs --image"},
		{[]string{"--image", "ppf:latest"}, "--image and --pvc-size are for --kubernetes"},
	} {
		a := tc.args
		if a[0] != "slurm" {
			a = append(append([]string{}, base...), a...)
		}
		stdout, errOut, code := ppf(t, a...)
		if code == 0 || stdout != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("ppf %v: exit %d, stdout %q, stderr %q; want an error with %q", a[1:], code, stdout, errOut, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused command made the output folder")
	}
}

// --kubernetes writes YAML that parses: a volume claim, the collection as
// an Indexed Job whose pods take their shard from JOB_COMPLETION_INDEX
// and write it on the claim, and the merge and training as a suspended Job.
func TestSlurmKubernetes(t *testing.T) {
	_, _ = slurmEnv(t)
	file := filepath.Join(t.TempDir(), "ppf.yaml")
	stdout, errOut, code := ppf(t, "slurm", "--out", "/work/run", "--shards", "4", "--samples", "40", "--kubernetes", file,
		"--image", "registry.example.com/ppf:cuda", "--backend", "cuda-bf16", "--gpus", "1", "--mem", "16G", "--cpus-per-task", "4")
	if code != 0 || !strings.Contains(stdout, "wrote "+file) {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name, Image string
		Command     []string
		Args        []string
		Resources   struct{ Requests, Limits map[string]any }
		VolumeMount []struct {
			Name      string
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	type object struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Metadata   struct{ Name string }
		Spec       struct {
			AccessModes    []string `yaml:"accessModes"`
			CompletionMode string   `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Suspend        bool
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []container
					Volumes       []struct {
						Name string
						PVC  struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v\n%s", file, err, b)
		}
		objs = append(objs, o)
	}
	if len(objs) != 3 || objs[0].Kind != "PersistentVolumeClaim" || objs[1].Kind != "Job" || objs[2].Kind != "Job" {
		t.Fatalf("want a claim and two Jobs, got %+v", objs)
	}
	claim, collect, train := objs[0], objs[1], objs[2]
	if claim.Spec.AccessModes[0] != "ReadWriteMany" {
		t.Errorf("the claim is %v: every pod mounts it", claim.Spec.AccessModes)
	}
	if s := collect.Spec; s.CompletionMode != "Indexed" || s.Completions != 4 || s.Parallelism != 4 || s.Suspend {
		t.Errorf("collect job: %+v", s)
	}
	if !train.Spec.Suspend || train.Spec.CompletionMode != "" {
		t.Errorf("the train job must be created suspended, one pod: %+v", train.Spec)
	}
	for _, j := range []object{collect, train} {
		ps := j.Spec.Template.Spec
		if len(ps.Containers) != 1 || len(ps.Volumes) != 1 || ps.RestartPolicy != "Never" {
			t.Fatalf("%s: %+v", j.Metadata.Name, ps)
		}
		c := ps.Containers[0]
		if ps.Volumes[0].PVC.ClaimName != claim.Metadata.Name || c.VolumeMount[0].Name != ps.Volumes[0].Name || c.VolumeMount[0].MountPath != "/work/run" {
			t.Errorf("%s does not mount the claim %s at /work/run: %+v %+v", j.Metadata.Name, claim.Metadata.Name, ps.Volumes, c.VolumeMount)
		}
		if c.Image != "registry.example.com/ppf:cuda" || c.Resources.Requests["cpu"] != "4" || c.Resources.Requests["memory"] != "16Gi" {
			t.Errorf("%s: image %q, requests %v", j.Metadata.Name, c.Image, c.Resources.Requests)
		}
	}
	c := collect.Spec.Template.Spec.Containers[0]
	if c.Resources.Limits["nvidia.com/gpu"] != 1 {
		t.Errorf("collect pods: limits %v, want one GPU", c.Resources.Limits)
	}
	for _, want := range []string{`ppf collect --model stories260K`, `--backend cuda-bf16`, `--samples 40`, `--shard "${JOB_COMPLETION_INDEX}/4"`, `--out "/work/run/shards/${JOB_COMPLETION_INDEX}-of-4.jsonl"`} {
		if len(c.Args) != 1 || !strings.Contains(c.Args[0], want) {
			t.Errorf("collect pod's command lacks %q: %q", want, c.Args)
		}
	}
	tc := train.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"ppf collect --merge --out /work/run/data.jsonl /work/run/shards/0-of-4.jsonl /work/run/shards/1-of-4.jsonl /work/run/shards/2-of-4.jsonl /work/run/shards/3-of-4.jsonl;",
		"ppf train-predictor", "ppf train-agent"} {
		if len(tc.Args) != 1 || !strings.Contains(tc.Args[0], want) {
			t.Errorf("train pod's command lacks %q: %q", want, tc.Args)
		}
	}
	if tc.Resources.Limits != nil {
		t.Errorf("the train pod asks for GPUs it does not use: %v", tc.Resources.Limits)
	}
}

// scontrol's one-line records as Slurm 22.05 prints them, read into the
// states ppf slurm reports.
func TestParseScontrol(t *testing.T) {
	out := "JobId=5 ArrayJobId=1 ArrayTaskId=2 JobName=ppf-collect UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=1:0 RunTime=00:00:00 WorkDir=/tmp StdErr=/tmp/run/logs/collect-1_2.out StdIn=/dev/null StdOut=/tmp/run/logs/collect-1_2.out Power= \n" +
		"JobId=1 ArrayJobId=1 ArrayTaskId=3-5 JobName=ppf-collect JobState=PENDING Reason=Resources ExitCode=0:0\n" +
		"JobId=2 JobName=ppf-merge JobState=PENDING Reason=DependencyNeverSatisfied Dependency=afterok:1_*(failed) ExitCode=0:0\n"
	got := parseScontrol(out)
	want := []slurmTask{
		{id: "5", arrayTask: "2", state: "FAILED", reason: "NonZeroExitCode", exit: "1:0", log: "/tmp/run/logs/collect-1_2.out"},
		{id: "1", arrayTask: "3-5", state: "PENDING", reason: "Resources", exit: "0:0"},
		{id: "2", state: "PENDING", reason: "DependencyNeverSatisfied", exit: "0:0"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !got[0].finished() || got[1].finished() || !got[2].finished() {
		t.Errorf("finished: failed %v, pending %v, never satisfied %v", got[0].finished(), got[1].finished(), got[2].finished())
	}
	for _, tc := range []struct {
		ix   []int
		want string
	}{{[]int{0, 1, 2, 3}, "0-3"}, {[]int{2}, "2"}, {[]int{0, 2, 3, 7}, "0,2-3,7"}} {
		if got := arraySpec(tc.ix); got != tc.want {
			t.Errorf("arraySpec(%v) = %q, want %q", tc.ix, got, tc.want)
		}
	}
}
