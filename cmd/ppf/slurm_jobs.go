package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// The jobs of ppf slurm as text: the sbatch scripts, the --dry-run
// script that submits them, and the Kubernetes YAML of --kubernetes.
// All three run the same command lines, built here once.

var (
	slurmTime = regexp.MustCompile(`^(\d+-\d+(:\d+(:\d+)?)?|\d+(:\d+(:\d+)?)?)$`)
	slurmMem  = regexp.MustCompile(`^\d+[KMGT]?$`)
	shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
)

// shq quotes s for a POSIX shell.
func shq(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shWords quotes each argument: the words of a command line.
func shWords(args ...string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shq(a)
	}
	return q
}

// shLine writes a command's words on one line, or, wrapped, on lines of
// about 80 columns continued with a backslash, a flag kept with its value.
func shLine(words []string, wrapped bool) string {
	if !wrapped {
		return strings.Join(words, " ")
	}
	var sb strings.Builder
	col := 0
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "--") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") && i > 0 {
			w += " " + words[i+1]
			i++
		}
		switch {
		case col == 0:
		case col+1+len(w) > 80:
			sb.WriteString(" \\\n    ")
			col = 4
		default:
			sb.WriteString(" ")
			col++
		}
		sb.WriteString(w)
		col += len(w)
	}
	return sb.String()
}

// collectWords is the command of one shard; idx is the variable that
// holds the shard index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX). The
// shard count is written out, never taken from SLURM_ARRAY_TASK_COUNT:
// a resubmitted array holds only the unfinished shards.
func (r *slurmRun) collectWords(idx string) []string {
	file := strings.Replace(r.shardFile(0), "/0-of-", "/${"+idx+"}-of-", 1)
	ws := append(shWords(r.ppf, "collect"), shWords(r.collect...)...)
	return append(ws, "--shard", fmt.Sprintf(`"${%s}/%d"`, idx, r.shards), "--out", `"`+file+`"`)
}

func (r *slurmRun) mergeWords() []string {
	args := []string{r.ppf, "collect", "--merge", "--out", filepath.Join(r.out, "data.jsonl")}
	for i := range r.shards {
		args = append(args, r.shardFile(i))
	}
	return shWords(args...)
}

func (r *slurmRun) trainWords() [][]string {
	pr := filepath.Join(r.out, "predictor.json")
	seed := strconv.FormatUint(r.seed, 10)
	return [][]string{
		shWords(r.ppf, "train-predictor", "--model", r.model, "--data", filepath.Join(r.out, "data.jsonl"), "--out", pr,
			"--test", strconv.FormatFloat(r.test, 'g', -1, 64), "--seed", seed),
		shWords(r.ppf, "train-agent", "--predictor", pr, "--model", r.model, "--out", filepath.Join(r.out, "agent.json"),
			"--steps", strconv.Itoa(r.agentSteps), "--seed", seed),
	}
}

// jobSpec is one Slurm job of the pipeline, each after the one before.
type jobSpec struct {
	name  string
	array []int // the collection's shard indices
	log   string
	gres  string
	lines []string
	why   string // a comment above its commands
}

func (j jobSpec) describe() string {
	if j.array != nil {
		return fmt.Sprintf(" (array %s: one task per shard)", arraySpec(j.array))
	}
	return ""
}

func (r *slurmRun) jobs(todo []int) []jobSpec {
	var js []jobSpec
	if len(todo) > 0 {
		j := jobSpec{name: "collect", array: todo, log: filepath.Join(r.out, "logs", "collect-%A_%a.out"),
			lines: []string{"exec " + shLine(r.collectWords("SLURM_ARRAY_TASK_ID"), true)},
			why: fmt.Sprintf("Task i measures shard i of %d and resumes its file when it is run again.\n"+
				"# The shard count is written out: a resubmitted array holds only unfinished shards.", r.shards)}
		if r.gpus > 0 {
			j.gres = "gpu:" + strconv.Itoa(r.gpus)
		}
		js = append(js, j)
	}
	return append(js,
		jobSpec{name: "merge", log: filepath.Join(r.out, "logs", "merge-%j.out"), lines: []string{"exec " + shLine(r.mergeWords(), true)},
			why: "Every shard file, named one by one: a missing shard is an error, not a smaller dataset."},
		jobSpec{name: "train", log: filepath.Join(r.out, "logs", "train-%j.out"), lines: []string{
			shLine(r.trainWords()[0], true), shLine(r.trainWords()[1], true)},
			why: "The predictor on the merged data, then the agent against the predictor."})
}

var sbatchTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
#SBATCH --job-name=ppf-{{.Name}}
#SBATCH --output={{.Log}}
#SBATCH --chdir={{.Out}}
{{- with .Array}}
#SBATCH --array={{.}}{{end}}
{{- with .Partition}}
#SBATCH --partition={{.}}{{end}}
{{- with .Account}}
#SBATCH --account={{.}}{{end}}
{{- with .Time}}
#SBATCH --time={{.}}{{end}}
#SBATCH --cpus-per-task={{.CPUs}}
{{- with .Mem}}
#SBATCH --mem={{.}}{{end}}
{{- with .Gres}}
#SBATCH --gres={{.}}{{end}}
set -euo pipefail
{{- range .Env}}
export {{index . 0}}={{index . 1}}{{end}}
# Go would use every CPU of the node, not the task's.
export GOMAXPROCS={{.CPUs}}
# {{.Why}}
{{- range .Lines}}
{{.}}{{end}}
`))

// script renders a job's sbatch script.
func (r *slurmRun) script(j jobSpec) string {
	var sb strings.Builder
	err := sbatchTemplate.Execute(&sb, struct {
		Name, Log, Out, Array, Partition, Account, Time, Mem, Gres, Why string
		CPUs                                                            int
		Env                                                             [][2]string
		Lines                                                           []string
	}{j.name, j.log, r.out, arraySpec(j.array), r.partition, r.account, r.timeLimit, r.mem, j.gres, j.why, r.cpus, r.env, j.lines})
	if err != nil {
		panic(err) // the template and its data are fixed here
	}
	return sb.String()
}

// shardList writes "shard 2" or "shards 0,2-3".
func shardList(ix []int) string {
	if len(ix) == 1 {
		return "shard " + arraySpec(ix)
	}
	return "shards " + arraySpec(ix)
}

// arraySpec writes shard indices as an --array list: 0-3 or 1,4-6.
func arraySpec(ix []int) string {
	var parts []string
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ix[i], ix[j]))
		} else {
			parts = append(parts, strconv.Itoa(ix[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// dryRun prints the jobs as a bash script of sbatch calls, each script
// in a here-document: reading it shows every job, running it submits
// them as ppf slurm would (without the manifest).
func (r *slurmRun) dryRun(w io.Writer, todo []int) error {
	fmt.Fprintf(w, "#!/bin/bash\n# ppf slurm --dry-run: the jobs for %s.\n", r.out)
	switch {
	case len(todo) == r.shards:
		fmt.Fprintf(w, "# Collect all %d shards (%s), then merge them into data.jsonl\n", r.shards, arraySpec(todo))
	case len(todo) > 0:
		fmt.Fprintf(w, "# Collect the unfinished %s (%d of %d complete), then merge all into data.jsonl\n",
			shardList(todo), r.shards-len(todo), r.shards)
	default:
		fmt.Fprintf(w, "# Every one of the %d shards is complete: merge them into data.jsonl\n", r.shards)
	}
	fmt.Fprintf(w, "# and train predictor.json and agent.json; each job runs after the one\n"+
		"# before it succeeded. Running this script submits them.\nset -euo pipefail\nmkdir -p %s %s\n",
		filepath.Join(r.out, "shards"), filepath.Join(r.out, "logs"))
	prev := ""
	for n, j := range r.jobs(todo) {
		dep, after := "", ""
		if prev != "" {
			dep, after = " --dependency=afterok:$"+prev, ", once "+prev+" has succeeded"
		}
		fmt.Fprintf(w, "\n# %d. %s%s%s\n%s=$(sbatch --parsable%s <<'PPF_JOB'\n%sPPF_JOB\n)\n%s=${%s%%%%;*} # --parsable prints ID or ID;CLUSTER\n",
			n+1, j.name, j.describe(), after, j.name, dep, r.script(j), j.name, j.name)
		prev = j.name
	}
	fmt.Fprintln(w, `echo "submitted:${collect:+ collect $collect,} merge $merge, train $train"`)
	return nil
}

var kubeTemplate = template.Must(template.New("kube").Funcs(template.FuncMap{"q": yamlQuote}).Parse(`# ppf slurm --kubernetes: the PPF collection of {{.Samples}} samples in {{.Shards}} shards
# as an Indexed Job (pod i measures shard i, from JOB_COMPLETION_INDEX), then
# the merge and the training as a second Job, created suspended. The shard
# files live on the volume claim, so a replaced pod resumes its shard.
#   kubectl apply -f {{.File}}
#   kubectl wait --for=condition=complete job/ppf-collect --timeout=24h
#   kubectl patch job ppf-train --type=merge -p '{"spec":{"suspend":false}}'
#   kubectl wait --for=condition=complete job/ppf-train --timeout=24h
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ppf-work
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests:
      storage: {{q .PVCSize}}
{{- range .Jobs}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ppf-{{.Name}}
spec:
{{- if .Indexed}}
  completionMode: Indexed
  completions: {{$.Shards}}
  parallelism: {{$.Shards}}
  backoffLimitPerIndex: 3 # Kubernetes 1.29 and later; older: backoffLimit
{{- else}}
  suspend: true # resumed by hand once ppf-collect is complete
  backoffLimit: 1
{{- end}}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: {{.Name}}
          image: {{q $.Image}}
          command: ["sh", "-c"]
          args:
            - {{q .Args}}
          env:
            - {name: GOMAXPROCS, value: {{q $.CPUs}}}
          resources:
            requests: {cpu: {{q $.CPUs}}{{with $.Mem}}, memory: {{q .}}{{end}}}
            {{- if and .Indexed $.GPUs}}
            limits: {nvidia.com/gpu: {{$.GPUs}}}{{end}}
          volumeMounts:
            - {name: work, mountPath: {{q $.Out}}}
      volumes:
        - name: work
          persistentVolumeClaim: {claimName: ppf-work}
{{- end}}
`))

// yamlQuote writes v as a JSON value, which YAML reads as it is; &, <
// and > stay as they are (json.Marshal would escape them for HTML).
func yamlQuote(v any) (string, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return strings.TrimSuffix(sb.String(), "\n"), err
}

// writeKubernetes writes the jobs as Kubernetes YAML. The output folder
// is where the volume claim is mounted in every pod; ppf is the image's.
func (r *slurmRun) writeKubernetes(path string, stdout io.Writer) error {
	mem := r.mem
	if mem != "" {
		// Slurm's sizes are binary, a bare number megabytes.
		n := strings.TrimRight(mem, "KMGT")
		unit := strings.TrimPrefix(mem, n)
		if unit == "" {
			unit = "M"
		}
		mem = n + unit + "i"
	}
	collect := "mkdir -p " + filepath.Join(r.out, "shards") + " && exec " + shLine(r.collectWords("JOB_COMPLETION_INDEX"), false)
	tw := r.trainWords()
	train := "set -e; " + shLine(r.mergeWords(), false) + "; " + shLine(tw[0], false) + "; " + shLine(tw[1], false)
	var sb strings.Builder
	type kubeJob struct {
		Name, Args string
		Indexed    bool
	}
	err := kubeTemplate.Execute(&sb, struct {
		File, CPUs, Mem, PVCSize, Image, Out string
		Samples, Shards, GPUs                int
		Jobs                                 []kubeJob
	}{path, strconv.Itoa(r.cpus), mem, r.pvcSize, r.image, r.out, r.samples, r.shards, r.gpus,
		[]kubeJob{{"collect", collect, true}, {"train", train, false}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: a volume claim, the collection as an Indexed Job of %d pods, and the merge and training (suspended); apply it with kubectl apply -f %s\n",
		path, r.shards, path)
	return nil
}
