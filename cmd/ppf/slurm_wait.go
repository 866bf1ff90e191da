package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Waiting for ppf slurm's jobs. The states come from `scontrol show job`,
// which every cluster has; sacct needs accounting, which a small cluster
// may lack, and `sbatch --wait` exits 0 for a cancelled job.

// slurmTask is one record of `scontrol show job -o`: a job, a task of an
// array (ArrayTaskId one index), or an array's tasks not yet started
// (ArrayTaskId a list such as 0-3 or 2,5).
type slurmTask struct {
	id, arrayTask, state, reason, exit, log string
}

// parseScontrol reads `scontrol show job -o` output: one record a line,
// space-separated Key=Value fields.
func parseScontrol(out string) []slurmTask {
	var ts []slurmTask
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "JobId=") {
			continue
		}
		var t slurmTask
		fields := map[string]*string{"JobId": &t.id, "ArrayTaskId": &t.arrayTask, "JobState": &t.state,
			"Reason": &t.reason, "ExitCode": &t.exit, "StdOut": &t.log}
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			if p, ok := fields[k]; ok {
				*p = v
			}
		}
		ts = append(ts, t)
	}
	return ts
}

// stateGone marks a job slurmctld no longer knows: it forgets finished
// jobs after MinJobAge (300 s by default).
const stateGone = "GONE"

// show returns the records of job id, or one record of state GONE.
func (s *slurmCLI) show(id string) ([]slurmTask, error) {
	out, err := s.command("scontrol", "show", "job", "-o", id)
	if err != nil && strings.Contains(err.Error(), "Invalid job id") {
		return []slurmTask{{id: id, state: stateGone}}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseScontrol(out), nil
}

// finished tells whether a task will not run (again): it ended, or it
// waits for a dependency that can no longer be met (a cluster without
// kill_invalid_depend leaves such a job pending for ever).
func (t slurmTask) finished() bool {
	switch t.state {
	case "PENDING":
		return t.reason == "DependencyNeverSatisfied"
	case "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
		"RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD":
		return false
	}
	return true
}

// active returns the ids of the jobs that still run or wait to.
func (s *slurmCLI) active(jobs []slurmJob) ([]string, error) {
	var ids []string
	for _, j := range jobs {
		ts, err := s.show(j.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !t.finished() {
				ids = append(ids, j.ID)
				break
			}
		}
	}
	return ids, nil
}

// jobState is where one submitted job stands: per shard for the
// collection (keyed by shard index), else under key -1.
type jobState struct {
	job   slurmJob
	tasks map[int]slurmTask
}

func (s *slurmCLI) poll(j slurmJob) (jobState, error) {
	ts, err := s.show(j.ID)
	if err != nil {
		return jobState{}, err
	}
	st := jobState{job: j, tasks: map[int]slurmTask{}}
	var rest *slurmTask // the array's tasks not started yet
	for i, t := range ts {
		if j.Array == nil {
			st.tasks[-1] = t
			continue
		}
		if k, err := strconv.Atoi(t.arrayTask); err == nil {
			st.tasks[k] = t
		} else {
			rest = &ts[i]
		}
	}
	for _, k := range j.Array {
		if _, ok := st.tasks[k]; !ok && rest != nil {
			st.tasks[k] = *rest
		} else if !ok {
			st.tasks[k] = slurmTask{id: j.ID, state: stateGone}
		}
	}
	return st, nil
}

func (st jobState) finished() bool {
	for _, t := range st.tasks {
		if !t.finished() {
			return false
		}
	}
	return true
}

// summary is one progress line's part for this job.
func (st jobState) summary() string {
	if st.job.Array == nil {
		return st.job.Name + " " + st.tasks[-1].state
	}
	n := map[string]int{}
	for _, t := range st.tasks {
		n[t.state]++
	}
	var parts []string
	for _, s := range []string{"COMPLETED", "RUNNING", "PENDING", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], strings.ToLower(s)))
			delete(n, s)
		}
	}
	for s, c := range n {
		parts = append(parts, fmt.Sprintf("%d %s", c, strings.ToLower(s)))
	}
	return fmt.Sprintf("collect %s of %d tasks", strings.Join(parts, ", "), len(st.tasks))
}

// measured counts the records in every shard file: whole lines.
func (r *slurmRun) measured() int {
	n := 0
	for i := range r.shards {
		b, _ := os.ReadFile(r.shardFile(i))
		n += bytes.Count(b, []byte{'\n'})
	}
	return n
}

// wait polls the jobs until none runs or waits, printing a line whenever
// their states change, and then reports: the outputs when all
// succeeded, else each failed shard or job with its state and log.
func (r *slurmRun) wait(sl *slurmCLI, jobs []slurmJob, stdout, stderr io.Writer) error {
	var states []jobState
	last := ""
	var failingSince time.Time // of scontrol's errors in a row
	for {
		states = states[:0]
		done := true
		parts := []string{}
		var err error
		for _, j := range jobs {
			var st jobState
			if st, err = sl.poll(j); err != nil {
				break
			}
			states = append(states, st)
			done = done && st.finished()
			parts = append(parts, st.summary())
		}
		line := fmt.Sprintf("%s; %d of %d samples measured", strings.Join(parts, "; "), r.measured(), r.samples)
		switch {
		case err != nil && sl.ctx.Err() != nil:
			return err
		case err != nil && failingSince.IsZero():
			// slurmctld restarting or failing over: the jobs go on.
			failingSince, done, line = time.Now(), false, fmt.Sprintf("%v; trying again for a minute", err)
		case err != nil && time.Since(failingSince) > time.Minute:
			return fmt.Errorf("%w (for a minute); the jobs may still run: the same command with --wait waits for them again", err)
		case err != nil:
			done, line = false, last
		default:
			failingSince = time.Time{}
		}
		if line != last {
			fmt.Fprintf(stderr, "ppf slurm: %s\n", line)
			last = line
		}
		if done {
			break
		}
		select {
		case <-sl.ctx.Done():
			fmt.Fprintf(stderr, "ppf slurm: the jobs keep running; the same command with --wait waits for them again, scancel stops them\n")
			return sl.ctx.Err()
		case <-time.After(time.Second):
		}
	}
	var failed []string
	for _, st := range states {
		keys := st.job.Array // in shard order
		if keys == nil {
			keys = []int{-1}
		}
		for _, k := range keys {
			t := st.tasks[k]
			if t.state == "COMPLETED" || t.state == stateGone {
				continue
			}
			failed = append(failed, r.failure(st.job, k, t))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s\nfix the cause and run the same ppf slurm command again: it submits only the unfinished shards",
			strings.Join(failed, "\n"))
	}
	return r.checkOutputs(stdout)
}

// failure says what became of a task that did not complete, and where
// its log is.
func (r *slurmRun) failure(j slurmJob, shard int, t slurmTask) string {
	what := j.Name + " (job " + j.ID + ")"
	if j.Array != nil {
		what = fmt.Sprintf("shard %d of %d (job %s_%d)", shard, r.shards, j.ID, shard)
	}
	if t.reason == "DependencyNeverSatisfied" {
		msg := fmt.Sprintf("%s: %s, not run: a job before it failed", what, t.state)
		if t.state == "PENDING" {
			msg += "; scancel " + j.ID
		}
		return msg
	}
	msg := fmt.Sprintf("%s: %s", what, t.state)
	if t.exit != "" {
		msg += ", exit code " + t.exit
	}
	if t.reason != "" && t.reason != "None" && t.reason != "NonZeroExitCode" {
		msg += ", " + t.reason
	}
	if t.log != "" {
		msg += "; log " + t.log
		if l := lastLine(t.log); l != "" {
			msg += ", ending: " + l
		}
	}
	return msg
}

func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 300 {
		l = l[:300] + "..."
	}
	return l
}

// checkOutputs reports the pipeline's files once every job completed,
// and refuses a merged dataset that lacks records: never a smaller
// dataset passed off as the whole collection.
func (r *slurmRun) checkOutputs(stdout io.Writer) error {
	data := filepath.Join(r.out, "data.jsonl")
	d, err := predictor.LoadDataset(data)
	if err != nil {
		return fmt.Errorf("every job completed, but %w", err)
	}
	if len(d) != r.samples {
		return fmt.Errorf("every job completed, but %s holds %d records, not the %d samples; see the logs in %s", data, len(d), r.samples, filepath.Join(r.out, "logs"))
	}
	for _, f := range []string{"predictor.json", "agent.json"} {
		if _, err := os.Stat(filepath.Join(r.out, f)); err != nil {
			return fmt.Errorf("every job completed, but %w", err)
		}
	}
	fmt.Fprintf(stdout, "done: %s (%d records), %s, %s; logs in %s\n", data, len(d),
		filepath.Join(r.out, "predictor.json"), filepath.Join(r.out, "agent.json"), filepath.Join(r.out, "logs"))
	return nil
}
