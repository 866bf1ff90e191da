package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// ppf slurm runs the pipeline's collection, merge and training as Slurm
// jobs: an array of `ppf collect --shard i/n` tasks, a merge after them
// (afterok) and the training of the predictor and the agent after the
// merge. Every job calls the ppf binary by absolute path and writes into
// one output folder that every node sees:
//
//	OUT/shards/I-of-N.jsonl  shard I's records (ppf collect resumes it)
//	OUT/data.jsonl           the merged dataset
//	OUT/predictor.json, OUT/agent.json
//	OUT/logs/                one log per task and job
//	OUT/jobs/                the scripts submitted
//	OUT/ppf-slurm.json       the settings and job ids of the last submission
//
// Running the same command again after a failure submits an array of
// only the unfinished shards. The same jobs as a Kubernetes Indexed Job
// are in slurm_jobs.go.

// slurmRun is one `ppf slurm` command line, resolved.
type slurmRun struct {
	out, ppf        string
	env             [][2]string // exported by every job: absolute PPF_MODELS and PPF_DATA
	shards, samples int
	collect         []string // the flags every shard shares (ppf collect's, --out and --shard aside)
	model           string
	seed            uint64
	test            float64
	agentSteps      int

	partition, timeLimit, mem, account string
	cpus, gpus                         int
	image, pvcSize                     string // Kubernetes only
}

// slurmManifest is OUT/ppf-slurm.json: what the folder was collected
// with, so that a resubmission with other settings cannot mix two
// collections, and the last submission's jobs, so that a second
// submission does not race the first.
type slurmManifest struct {
	Collect []string   `json:"collect"`
	Shards  int        `json:"shards"`
	Jobs    []slurmJob `json:"jobs,omitempty"`
}

// slurmJob is one submitted job: its name (collect, merge, train), its
// Slurm id and, for the collection, the shard indices of its array.
type slurmJob struct {
	Name  string `json:"name"`
	ID    string `json:"id"`
	Array []int  `json:"array,omitempty"`
}

const slurmSynopsis = "--out DIR [--shards N] [--samples N] [--partition P] [--time T] [--gpus N] [--wait | --dry-run | --kubernetes FILE]"

func runSlurm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("slurm", slurmSynopsis, stderr)
	var f evalFlags
	f.register(fs)
	r := &slurmRun{}
	out := fs.String("out", "", "output folder on a filesystem every node sees: shards, merged data, predictor, agent, logs (required)")
	countVar(fs, &r.shards, "shards", 8, 1, "shards", "collection shards: one array task each")
	countVar(fs, &r.samples, "samples", 300, 1, "policies", "samples of the whole collection, all shards together")
	fs.Uint64Var(&r.seed, "seed", 1, "seed of the collection and of the training")
	ratioMin, ratioMax := new(float64), new(float64)
	ratioVar(fs, ratioMin, "ratio-min", ppfnb.DefaultRatioMin, "smallest global ratio drawn")
	ratioVar(fs, ratioMax, "ratio-max", ppfnb.DefaultRatioMax, "largest global ratio drawn")
	ratioVar(fs, &r.test, "test", 0.2, "share of the records train-predictor holds out to judge the predictor")
	countVar(fs, &r.agentSteps, "agent-steps", agent.DefaultConfig().Steps, 1, "updates", "PPO updates of train-agent")
	fs.StringVar(&r.partition, "partition", "", "Slurm partition (default: the cluster's default)")
	fs.StringVar(&r.timeLimit, "time", "", "time limit of each job, as Slurm writes it: MM, HH:MM:SS or D-HH:MM (default: the partition's)")
	countVar(fs, &r.cpus, "cpus-per-task", 1, 1, "CPUs", "CPUs of each task and job")
	fs.StringVar(&r.mem, "mem", "", "memory of each task, as Slurm writes it: 4G, 500M (default: the partition's)")
	countVar(fs, &r.gpus, "gpus", 0, 0, "GPUs", "GPUs of each collection task (--gres=gpu:N); needs --backend cuda or cuda-bf16")
	fs.StringVar(&r.account, "account", "", "Slurm account to charge (default: yours)")
	ppfPath := fs.String("ppf", "", "the ppf binary the jobs run, on a path every node sees (default: this one)")
	dryRun := fs.Bool("dry-run", false, "print the jobs as a bash script of sbatch calls; submit nothing")
	wait := fs.Bool("wait", false, "wait for the jobs, printing progress; exit 1 naming a failed shard and its log")
	kube := fs.String("kubernetes", "", "write the jobs as Kubernetes YAML to this file instead (an Indexed Job and a PVC); submit nothing")
	fs.StringVar(&r.image, "image", "", "--kubernetes: the container image, with ppf on its PATH and the models and text in it (required there)")
	fs.StringVar(&r.pvcSize, "pvc-size", "10Gi", "--kubernetes: the size of the output volume claim")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("--out is required: the output folder on a filesystem every node sees")
	}
	if err := r.resolve(&f, *out, *ppfPath, *ratioMin, *ratioMax, *kube != ""); err != nil {
		return err
	}
	switch {
	case *kube != "" && (*wait || *dryRun):
		return flagErrorf("--kubernetes writes a file and submits nothing: drop --wait and --dry-run")
	case *kube != "":
		return r.writeKubernetes(*kube, stdout)
	case *dryRun && *wait:
		return flagErrorf("--dry-run submits nothing to --wait for")
	}
	man, err := r.manifest()
	if err != nil {
		return err
	}
	todo, err := r.unfinished()
	if err != nil {
		return err
	}
	if *dryRun {
		return r.dryRun(stdout, todo)
	}
	sl := &slurmCLI{ctx: ctx}
	if active, err := sl.active(man.Jobs); err != nil {
		return err
	} else if active != nil {
		if !*wait {
			return fmt.Errorf("jobs %s of an earlier submission into %s are still queued or running: wait for them with the same command and --wait, or scancel them first",
				strings.Join(active, ", "), r.out)
		}
		fmt.Fprintf(stderr, "ppf slurm: waiting for the earlier submission's jobs %s\n", strings.Join(active, ", "))
		return r.wait(sl, man.Jobs, stdout, stderr)
	}
	jobs, err := r.submit(sl, man, todo, stdout)
	if err != nil {
		return err
	}
	if !*wait {
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID
		}
		fmt.Fprintf(stdout, "follow them: squeue -j %s (logs in %s); the same command with --wait waits for them\n",
			strings.Join(ids, ","), filepath.Join(r.out, "logs"))
		return nil
	}
	return r.wait(sl, jobs, stdout, stderr)
}

// resolve checks the flags and turns every path the jobs read into an
// absolute one: jobs run in another folder, often on another machine.
func (r *slurmRun) resolve(f *evalFlags, out, ppfPath string, ratioMin, ratioMax float64, kube bool) error {
	var err error
	if strings.ContainsAny(out, " \t\n'\"\\$%") {
		// #SBATCH lines are not shell lines: no quoting there, and % is
		// Slurm's file name pattern.
		return flagErrorf("--out %q: give a folder without spaces, quotes, $, %% or backslashes (Slurm's #SBATCH lines cannot quote them)", out)
	}
	if r.out, err = filepath.Abs(out); err != nil {
		return err
	}
	switch {
	case ppfPath != "":
		r.ppf = ppfPath
	case kube:
		r.ppf = "ppf" // the image's
	default:
		if r.ppf, err = os.Executable(); err != nil {
			return fmt.Errorf("finding this ppf binary for the jobs (%v): give --ppf", err)
		}
		// go run deletes its binary when it exits, before the jobs start.
		if strings.HasPrefix(r.ppf, os.TempDir()) && strings.Contains(r.ppf, "go-build") {
			return flagErrorf("this ppf runs from go run's temporary folder (%s), which is gone before the jobs start: build it (go build -o bin/ppf ./cmd/ppf) and run bin/ppf slurm, or give --ppf", filepath.Dir(r.ppf))
		}
	}
	if !kube {
		if r.ppf, err = filepath.Abs(r.ppf); err != nil {
			return err
		}
		if st, err := os.Stat(r.ppf); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return flagErrorf("--ppf %s: not an executable file; give the ppf binary the jobs run (go build -o bin/ppf ./cmd/ppf)", r.ppf)
		}
	}
	switch {
	case f.backend != "cpu" && f.backend != "cuda" && f.backend != "cuda-bf16":
		return flagErrorf("--backend %q: use cpu, cuda or cuda-bf16", f.backend)
	case f.backend != "cpu" && r.gpus == 0:
		return flagErrorf("--backend %s measures on a GPU: ask for one per task with --gpus 1 (and run a ppf built with -tags cuda)", f.backend)
	case f.backend == "cpu" && r.gpus > 0:
		return flagErrorf("--gpus %d with --backend cpu reserves GPUs no task uses: add --backend cuda-bf16 (a ppf built with -tags cuda)", r.gpus)
	case r.shards > r.samples:
		return flagErrorf("--shards %d is more than --samples %d: some shards would measure nothing", r.shards, r.samples)
	case ratioMin > ratioMax:
		return flagErrorf("--ratio-min %v is above --ratio-max %v", ratioMin, ratioMax)
	case r.timeLimit != "" && !slurmTime.MatchString(r.timeLimit):
		return flagErrorf("--time %q: write a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", r.timeLimit)
	case r.mem != "" && !slurmMem.MatchString(r.mem):
		return flagErrorf("--mem %q: write a Slurm memory size: a number with K, M, G or T (4G, 500M)", r.mem)
	case !kube && (r.image != "" || r.pvcSize != "10Gi"):
		return flagErrorf("--image and --pvc-size are for --kubernetes; Slurm jobs run --ppf")
	case kube && r.image == "":
		return flagErrorf("--kubernetes needs --image: a container image with ppf on its PATH and the models and text in it")
	}
	for _, s := range []struct{ flag, v string }{{"partition", r.partition}, {"account", r.account}} {
		if strings.ContainsAny(s.v, " \t\n'\"\\$%") {
			return flagErrorf("--%s %q: Slurm names have no spaces, quotes or $", s.flag, s.v)
		}
	}
	// A model, tokenizer or text given as a path is made absolute; a name
	// is looked up in PPF_MODELS or PPF_DATA, which every job exports as
	// absolute folders. The model is checked here, before any job waits
	// in a queue to fail on a typo.
	abs := func(p string) string {
		if _, err := os.Stat(p); err == nil && !kube {
			if a, err := filepath.Abs(p); err == nil {
				return a
			}
		}
		return p
	}
	r.model = abs(f.model)
	if !kube {
		if _, _, err := native.ResolveModel(r.model); err != nil {
			return err
		}
		for _, e := range []struct{ name, dir string }{{"PPF_MODELS", native.ModelsDir()}, {"PPF_DATA", native.DataDir()}} {
			d, err := filepath.Abs(e.dir)
			if err != nil {
				return err
			}
			r.env = append(r.env, [2]string{e.name, d})
		}
	}
	r.collect = []string{"--model", r.model}
	if f.tok != "" {
		r.collect = append(r.collect, "--tokenizer", abs(f.tok))
	}
	r.collect = append(r.collect, "--text", abs(f.text), "--search-tokens", strconv.Itoa(f.searchTokens),
		"--seqlen", strconv.Itoa(f.seqLen), "--units", f.units, "--backend", f.backend,
		"--samples", strconv.Itoa(r.samples), "--seed", strconv.FormatUint(r.seed, 10),
		"--ratio-min", strconv.FormatFloat(ratioMin, 'g', -1, 64), "--ratio-max", strconv.FormatFloat(ratioMax, 'g', -1, 64))
	return nil
}

func (r *slurmRun) shardFile(i int) string {
	return filepath.Join(r.out, "shards", fmt.Sprintf("%d-of-%d.jsonl", i, r.shards))
}

// shardTotal is the number of samples of shard i: those k < samples with
// k mod shards == i.
func (r *slurmRun) shardTotal(i int) int { return (r.samples - i + r.shards - 1) / r.shards }

// shardDone tells whether shard i's file holds all its records, read
// with the collection's own reader and sample tags: every line a record,
// and record j sample i + j*shards. It does not draw the policies again,
// which needs the model and its calibration on the submitting machine;
// the manifest guarantees the settings, the task that resumes a shard
// checks every policy, and the merge refuses overlapping shards.
func (r *slurmRun) shardDone(i int) (bool, error) {
	d, err := predictor.LoadDataset(r.shardFile(i))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, nil // a torn or corrupt file: its task resumes (or refuses) it, in its log
	case len(d) > r.shardTotal(i):
		return false, fmt.Errorf("%s holds %d records, more than the %d of shard %d/%d: the folder holds another collection; use another --out",
			r.shardFile(i), len(d), r.shardTotal(i), i, r.shards)
	}
	for j, rec := range d {
		if k, ok := ppfnb.SampleIndex(rec.Source); !ok || k != i+j*r.shards {
			return false, fmt.Errorf("%s line %d: source %q, expected sample %d of shard %d/%d: the folder holds another collection; use another --out",
				r.shardFile(i), j+1, rec.Source, i+j*r.shards, i, r.shards)
		}
	}
	return len(d) == r.shardTotal(i), nil
}

// unfinished lists the shards whose files are not complete.
func (r *slurmRun) unfinished() ([]int, error) {
	var todo []int
	for i := range r.shards {
		done, err := r.shardDone(i)
		if err != nil {
			return nil, err
		}
		if !done {
			todo = append(todo, i)
		}
	}
	return todo, nil
}

func (r *slurmRun) manifestPath() string { return filepath.Join(r.out, "ppf-slurm.json") }

// manifest reads OUT/ppf-slurm.json (an empty one when there is none)
// and refuses a folder collected with other settings.
func (r *slurmRun) manifest() (*slurmManifest, error) {
	m := &slurmManifest{Collect: r.collect, Shards: r.shards}
	b, err := os.ReadFile(r.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	} else if err != nil {
		return nil, err
	}
	var old slurmManifest
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, fmt.Errorf("%s: %v; it is written by ppf slurm: remove it, or use another --out", r.manifestPath(), err)
	}
	if old.Shards != r.shards || !slices.Equal(old.Collect, r.collect) {
		return nil, fmt.Errorf("%s was collected with --shards %d %s; this command asks --shards %d %s: use those settings to resume it, or another --out",
			r.out, old.Shards, strings.Join(old.Collect, " "), r.shards, strings.Join(r.collect, " "))
	}
	m.Jobs = old.Jobs
	return m, nil
}

func (r *slurmRun) saveManifest(m *slurmManifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(r.manifestPath(), append(b, '\n'), 0o644)
}

// submit writes the jobs' scripts under OUT/jobs and submits them in
// order, each after the one before it; the manifest records every job
// as soon as it is submitted.
func (r *slurmRun) submit(sl *slurmCLI, m *slurmManifest, todo []int, stdout io.Writer) ([]slurmJob, error) {
	for _, d := range []string{"shards", "logs", "jobs"} {
		if err := os.MkdirAll(filepath.Join(r.out, d), 0o755); err != nil {
			return nil, err
		}
	}
	if len(todo) < r.shards {
		fmt.Fprintf(stdout, "%d of %d shards are complete in %s; collecting the unfinished %s\n",
			r.shards-len(todo), r.shards, r.out, shardList(todo))
	}
	m.Jobs = nil
	var prev string
	for _, j := range r.jobs(todo) {
		path := filepath.Join(r.out, "jobs", j.name+".sbatch")
		if err := os.WriteFile(path, []byte(r.script(j)), 0o644); err != nil {
			return nil, err
		}
		id, err := sl.sbatch(path, prev)
		if err != nil {
			return nil, fmt.Errorf("submitting %s: %w", path, err)
		}
		m.Jobs = append(m.Jobs, slurmJob{Name: j.name, ID: id, Array: j.array})
		if err := r.saveManifest(m); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "submitted %s: job %s%s\n", j.name, id, j.describe())
		prev = id
	}
	return m.Jobs, nil
}

// slurmCLI runs Slurm's client commands (sbatch, scontrol), found on
// PATH and configured as the user's shell has them (SLURM_CONF).
type slurmCLI struct{ ctx context.Context }

func (s *slurmCLI) command(name string, args ...string) (string, error) {
	cmd := exec.CommandContext(s.ctx, name, args...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	b, err := cmd.Output()
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("%s not found: ppf slurm runs on a machine with Slurm's client commands (or use --dry-run or --kubernetes)", name)
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return "", s.ctx.Err()
		}
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return string(b), nil
}

// sbatch submits a script, after job `after` has succeeded when it is
// not "", and returns the job id.
func (s *slurmCLI) sbatch(script, after string) (string, error) {
	args := []string{"--parsable"}
	if after != "" {
		args = append(args, "--dependency=afterok:"+after)
	}
	out, err := s.command("sbatch", append(args, script)...)
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // --parsable: ID or ID;CLUSTER
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", out)
	}
	return id, nil
}
