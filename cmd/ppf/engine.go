package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/tokenizer"
	"github.com/ppfkit/ppf/ppfnb"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", "--model M [--prompt S] [--steps N] [--temperature T]", stderr)
	model := fs.String("model", "stories260K", "model name or path")
	tok := fs.String("tokenizer", "", "tokenizer file (default: the one beside the model)")
	var opt ppfnb.GenerateOptions
	fs.StringVar(&opt.Prompt, "prompt", "", "text to start from (after BOS)")
	countOrVar(fs, &opt.Steps, "steps", 256, "context", "steps", "forward passes, prompt included, as in llama2.c, or context: the model's context")
	rangeVar(fs, &opt.Temperature, "temperature", 0, 0, math.Inf(1), false, true, "sampling temperature; 0 is greedy")
	rangeVar(fs, &opt.TopP, "top-p", 0.9, 0, 1, true, false, "nucleus sampling threshold in (0, 1] when temperature > 0 (1 disables it)")
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed for sampling")
	stats := fs.Bool("stats", false, "print tokens/s of the prompt and of generation on stderr, as llama.cpp and llama2.c do")
	if err := parse(fs, args); err != nil {
		return err
	}
	lm, err := ppfnb.Load(*model, *tok)
	if err != nil {
		return err
	}
	sampler, err := native.NewSampler(opt.Temperature, opt.TopP, opt.Seed)
	if err != nil {
		return err
	}
	// native.GenerateTimed rather than lm.Generate, for the timings
	_, st, err := native.GenerateTimed(ctx, lm.Model, lm.Tokenizer, opt.Prompt, opt.Steps, sampler, func(p string) { io.WriteString(stdout, p) })
	// Only the generated text goes to stdout, byte for byte; a terminal also
	// gets a final newline so that the prompt starts on its own line.
	if isTerminal(stdout) {
		fmt.Fprintln(stdout)
	}
	if *stats {
		if !isTerminal(stdout) {
			// stdout and stderr may be one file (2>&1): keep the stats
			// off the text's last line, as llama2.c does.
			fmt.Fprintln(stderr)
		}
		fmt.Fprintf(stderr, "prompt: %d tokens in %.2f ms, %.1f tokens/s\n", st.PromptTokens, ms(st.PromptTime), st.PromptRate())
		packed := ""
		if st.PackTime > 0 {
			packed = fmt.Sprintf(" (%.2f ms of it packing the weights for decoding)", ms(st.PackTime))
		}
		fmt.Fprintf(stderr, "generation: %d tokens in %.2f ms, %.1f tokens/s%s\n", st.Tokens, ms(st.DecodeTime), st.DecodeRate(), packed)
	}
	return err
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "--model M --data FILE [--seqlen L] [--max-tokens N] [--json]", stderr)
	model := fs.String("model", "stories260K", "model name or path")
	tok := fs.String("tokenizer", "", "tokenizer file (default: the one beside the model)")
	data := fs.String("data", "tinystories/TinyStories-valid-excerpt.txt", "text file, a path or relative to $PPF_DATA")
	seqLen := count(fs, "seqlen", 0, 0, "tokens", "window length in tokens (0: the model's context)")
	maxTokens := new(int)
	countOrVar(fs, maxTokens, "max-tokens", 0, "all", "tokens", "evaluate only the first N tokens of the text, or all")
	asJSON := fs.Bool("json", false, "print one JSON object")
	backend := fs.String("backend", "cpu", backendUsage("where perplexity is measured"))
	if err := parse(fs, args); err != nil {
		return err
	}
	lm, err := ppfnb.Load(*model, *tok)
	if err != nil {
		return err
	}
	if err := lm.UseBackend(*backend); err != nil {
		return err
	}
	defer lm.Close()
	bar := newProgress(stderr, "perplexity")
	res, err := lm.Evaluate(ctx, *data, native.EvalOptions{SeqLen: *seqLen, MaxTokens: *maxTokens, Progress: bar})
	if err != nil {
		return err
	}
	if res.Warning != "" {
		fmt.Fprintf(stderr, "ppf eval: warning: %s\n", res.Warning)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "perplexity %.4f (nll %.4f) on %s\n  %d predicted tokens in %d windows of %d tokens; %s; %.2fs on %s\n",
		res.Perplexity, res.NLL, res.Data, res.Tokens, res.Windows, res.SeqLen, res.Text, res.Seconds, res.Backend)
	return nil
}

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokenize", "--tokenizer T [--no-bos] TEXT", stderr)
	path := fs.String("tokenizer", "", "tokenizer file, or a model name/path whose tokenizer to use")
	noBOS := fs.Bool("no-bos", false, "do not prepend BOS")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *path == "" {
		fs.Usage()
		return fmt.Errorf("--tokenizer is required")
	}
	tokPath := *path
	if st, err := os.Stat(tokPath); err != nil || st.IsDir() {
		// not a tokenizer file: take the tokenizer of the model it names
		_, found, err := native.ResolveModel(tokPath)
		if err != nil {
			return fmt.Errorf("--tokenizer %q is not a tokenizer file: %w", tokPath, err)
		}
		if found == "" {
			return fmt.Errorf("--tokenizer %q: no tokenizer file beside that model", tokPath)
		}
		tokPath = found
	}
	t, err := tokenizer.Load(tokPath)
	if err != nil {
		return err
	}
	ids, err := tokenizer.EncodeErr(t, strings.Join(fs.Args(), " "), !*noBOS)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []int{}
	}
	return json.NewEncoder(stdout).Encode(ids)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--model M]", stderr)
	model := fs.String("model", "stories260K", "model name or path")
	if err := parse(fs, args); err != nil {
		return err
	}
	lm, err := ppfnb.Load(*model, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %v\n\ngreedy generation, 200 steps from BOS:\n\n", lm.Path, lm.Model)
	if _, err := lm.Generate(ctx, ppfnb.GenerateOptions{Steps: 200}, func(p string) { io.WriteString(stdout, p) }); err != nil {
		return err
	}
	const data = "tinystories/TinyStories-valid-excerpt.txt"
	res, err := lm.Evaluate(ctx, data, native.EvalOptions{SeqLen: min(256, lm.Model.SeqLen), Progress: newProgress(stderr, "perplexity")})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n\nperplexity %.4f (nll %.4f) on %s\n  %d predicted tokens in %d windows of %d tokens; %s; %.2fs\n",
		res.Perplexity, res.NLL, res.Data, res.Tokens, res.Windows, res.SeqLen, res.Text, res.Seconds)
	return nil
}

// backendUsage is the help of a --backend flag that says what runs there.
func backendUsage(what string) string {
	return what + ": cpu, or a GPU backend (cuda, cuda-bf16) in a ppf built with -tags cuda"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a progress callback drawing a bar on w when w is a
// terminal, and nil (no progress output) otherwise.
func newProgress(w io.Writer, what string) func(done, total int) {
	if !isTerminal(w) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		}
		bar.Set(done)
	}
}
