// Command ppf is the PPF command line: generate text, measure perplexity
// and tokenize with Llama-family checkpoints, and run the PPF pipeline on
// one machine or as Slurm jobs (ppf slurm). Run it with no arguments for
// a demonstration on stories260K; `ppf help` lists the commands.
//
// Each command is a thin layer over package ppfnb, in the file of its
// name: generate, eval, tokenize and the demo (engine.go), prune, speed,
// collect, train-predictor and train-agent (train.go), search, predict,
// experiment, duel, slurm and serve. Flags are validated in flags.go;
// docs/cli.md is generated from the commands' help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `ppf: the Predictive Pruning Framework for Llama-family models

Usage:
  ppf                      demo: generate and evaluate with stories260K
  ppf generate [flags]     generate text
  ppf eval [flags]         measure perplexity on a text file
  ppf tokenize [flags] TEXT
                           print token ids as a JSON array
  ppf prune [flags]        prune a model (uniform, wanda-sp, owl, flap, shortgpt,
                           random), evaluate it, save it
  ppf speed [flags]        tokens/s of the dense and the sliced pruned model
  ppf collect [flags]      measure sampled policies into a JSON Lines dataset
                           (resumable, --shard i/n; --merge joins shard files)
  ppf train-predictor [flags]
                           train the performance predictor on a dataset
  ppf train-agent [flags]  train the ratio-conditioned agent against a predictor
  ppf search [flags]       static search at one ratio: evolution on the predictor,
                           verified for real, refitted each round
  ppf predict [flags]      score a policy (or the agent's) with a predictor
  ppf experiment [flags]   the whole pipeline and the table of every method
  ppf duel [flags]         PPF against EvoPress and random search on an equal
                           budget of real evaluations: anytime curves
  ppf slurm [flags]        the collection as a Slurm array, then the merge and
                           the training as jobs after it (--kubernetes: as YAML)
  ppf serve [flags]        the predictor page in a browser: sliders per layer,
                           predicted perplexity, the agent's policies

Run "ppf COMMAND -h" for a command's flags. Models are found by name in
$PPF_MODELS (default ../shared/models) and text in $PPF_DATA (default
../shared/data).
`

type command struct {
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"generate": {runGenerate},
	"eval":     {runEval},
	"tokenize": {runTokenize},
	"prune":    {runPrune},
	"speed":    {runSpeed},
	"serve":    {runServe},
	"demo":     {runDemo},

	"collect":         {runCollect},
	"train-predictor": {runTrainPredictor},
	"train-agent":     {runTrainAgent},
	"search":          {runSearch},
	"predict":         {runPredict},
	"experiment":      {runExperiment},
	"duel":            {runDuel},
	"slurm":           {runSlurm},
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first Ctrl-C (or SIGTERM) cancels the context every long stage
	// checks; the second ends the process at once, for a stage that does
	// not check it.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "ppf: stopping (again to quit now)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "ppf: quit")
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "demo"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "ppf: unknown command %q\n\n%s", name, usage)
		return 2
	}
	err := cmd.run(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, new(*flagError)):
		fmt.Fprintf(stderr, "ppf %s: %v\n", name, err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "ppf: interrupted")
		return 130
	default:
		fmt.Fprintf(stderr, "ppf %s: %v\n", name, err)
		return 1
	}
}

// errUsage marks errors already reported by the flag package.
var errUsage = errors.New("usage")

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ppf "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ppf %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a command line that has only flags: it validates the
// flags' values and refuses a positional argument.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return flagErrorf("unexpected argument %q: %s takes only flags", fs.Arg(0), fs.Name())
	}
	return nil
}

// parseArgs parses a command line with flags and validates their values;
// positional arguments are left to the command.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return checkFlags(fs)
}
