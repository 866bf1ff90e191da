package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// runQuick runs one command line in-process under a short deadline and
// reports a panic or a run past the deadline as a failure of the case.
func runQuick(t *testing.T, args []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		out, errOut string
		code        int
		panicked    any
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		defer func() {
			if p := recover(); p != nil {
				done <- result{out.String(), errOut.String(), -1, p}
			}
		}()
		c := run(ctx, args, &out, &errOut)
		done <- result{out.String(), errOut.String(), c, nil}
	}()
	select {
	case r := <-done:
		if r.panicked != nil {
			t.Fatalf("%q panicked: %v", args, r.panicked)
		}
		return r.out, r.errOut, r.code
	case <-time.After(25 * time.Second):
		t.Fatalf("%q still running after 25s", args)
	}
	return "", "", 0
}

// Every bad flag value is refused before any work, with one error line
// that names the flag, its valid range and the value given.
func TestFlagValidation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prune", "--method", "owl", "--ratio", "0.3", "--calib-tokens", "-1"}, "--calib-tokens must be a positive number of tokens, got -1"},
		{[]string{"prune", "--ratio", "0.3", "--calib-tokens", "0"}, "--calib-tokens must be a positive number of tokens, got 0"},
		{[]string{"prune", "--ratio", "0.3", "--calib-seqlen", "-5"}, "--calib-seqlen must be a positive number of tokens, got -5"},
		{[]string{"search", "--verify", "-1"}, "--verify must be a positive number of candidates, got -1"},
		{[]string{"search", "--rounds", "-1"}, "--rounds must be a positive number of rounds, got -1"},
		{[]string{"search", "--generations", "-1"}, "--generations must be a positive number of generations, got -1"},
		{[]string{"search", "--predictor", "p", "--data", "d", "--ratio", "-1"}, "--ratio must be a fraction in [0, 1), got -1"},
		{[]string{"search", "--search-tokens", "-1"}, "--search-tokens must be a positive number of tokens, got -1"},
		{[]string{"eval", "--max-tokens", "-1"}, `--max-tokens must be a positive number of tokens or "all", got -1`},
		{[]string{"eval", "--seqlen", "-1"}, "--seqlen must be zero or a positive number of tokens, got -1"},
		{[]string{"prune", "--ratio", "0.3", "--max-tokens", "-1"}, `--max-tokens must be a positive number of tokens or "all", got -1`},
		{[]string{"train-predictor", "--data", "x.jsonl", "--out", "p.json", "--arch", "transformer"}, `--arch: predictor network "transformer": use cnn, cnn3 or mlp`},
		{[]string{"generate", "--steps", "-1"}, `--steps must be a positive number of steps or "context", got -1`},
		{[]string{"generate", "--top-p", "0", "--temperature", "1"}, "--top-p must be a number in (0, 1], got 0"},
		{[]string{"generate", "--temperature", "Inf"}, "--temperature must be a number in [0, +Inf), got +Inf"},
		{[]string{"generate", "--temperature", "NaN"}, "--temperature must be a number in [0, +Inf), got NaN"},
		{[]string{"train-agent", "--steps", "-1"}, "--steps must be a positive number of updates, got -1"},
		{[]string{"train-agent", "--ratio-min", "NaN"}, "--ratio-min must be a fraction in [0, 1), got NaN"},
		{[]string{"experiment", "--rounds", "-1"}, "--rounds must be a positive number of rounds, got -1"},
		{[]string{"experiment", "--samples", "-1"}, "--samples must be a positive number of policies, got -1"},
		{[]string{"experiment", "--report-tokens", "-1"}, "--report-tokens must be a positive number of tokens, got -1"},
		{[]string{"experiment", "--wiki-tokens", "-1"}, "--wiki-tokens must be zero or a positive number of tokens, got -1"},
		{[]string{"collect", "--out", "/nonexistent-dir/x.jsonl", "--samples", "-1"}, "--samples must be a positive number of policies, got -1"},
		{[]string{"collect", "--out", "/nonexistent-dir/x.jsonl", "--ratio-max", "Inf"}, "--ratio-max must be a fraction in [0, 1), got +Inf"},
		{[]string{"train-predictor", "--test", "-0.5"}, "--test must be a fraction in [0, 1), got -0.5"},
		{[]string{"train-predictor", "--test", "NaN"}, "--test must be a fraction in [0, 1), got NaN"},
		{[]string{"train-predictor", "--test", "1"}, "--test must be a fraction in [0, 1), got 1"},
		{[]string{"prune", "--ratio", "0.3", "--method", "owl", "--owl-m", "NaN"}, "--owl-m must be a number in (0, +Inf), got NaN"},
		{[]string{"prune", "--ratio", "0.3", "--method", "owl", "--owl-m", "-1"}, "--owl-m must be a number in (0, +Inf), got -1"},
		{[]string{"prune", "--ratio", "0.3", "--method", "owl", "--owl-lambda", "NaN"}, "--owl-lambda must be a number in (0, 0.5], got NaN"},
		{[]string{"prune", "--ratio", "0.3", "--method", "owl", "--owl-lambda", "-1"}, "--owl-lambda must be a number in (0, 0.5], got -1"},
		{[]string{"prune", "--ratio", "0.3", "--min-groups", "-1"}, "--min-groups must be zero or a positive number of groups, got -1"},
		{[]string{"prune", "--ratio", "0.3", "--min-channels", "-1"}, "--min-channels must be zero or a positive number of channels, got -1"},
		{[]string{"prune", "--ratio", "0.3", "--min-groups", "100"}, "MinGroups 100 is more than the 4 key/value groups of a layer of stories260K (ppf: --min-groups)"},
		{[]string{"prune", "--ratio", "0.3", "--min-channels", "500"}, "MinChannels 500 is more than the 172 MLP channels"},
		{[]string{"prune", "--ratio", "-1"}, "--ratio must be a fraction in [0, 1), got -1"},
		{[]string{"speed", "--ratio", "NaN"}, "--ratio must be a fraction in [0, 1), got NaN"},
		{[]string{"predict", "--predictor", "p", "--agent", "a", "--ratio", "-1"}, "--ratio must be a fraction in [0, 1), got -1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runQuick(t, tc.args)
			if code == 0 || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want one error line with %q", code, out, errOut, tc.want)
			}
		})
	}
}

// Every command that takes no positional arguments refuses a stray one.
func TestStrayArguments(t *testing.T) {
	for _, cmd := range []string{"generate", "eval", "prune", "speed", "demo", "train-predictor", "train-agent", "search", "predict", "experiment", "collect"} {
		t.Run(cmd, func(t *testing.T) {
			args := []string{cmd, "--json", "x"}
			if cmd == "generate" || cmd == "demo" {
				args = []string{cmd, "x"}
			}
			if cmd == "collect" {
				args = []string{cmd, "--out", "/nonexistent-dir/o.jsonl", "x"}
			}
			want := fmt.Sprintf("unexpected argument %q: ppf %s takes only flags", "x", cmd)
			if cmd == "collect" {
				want = `unexpected argument "x": shard files are merged with --merge`
			}
			out, errOut, code := runQuick(t, args)
			if code == 0 || out != "" || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want one error line with %q", code, out, errOut, want)
			}
		})
	}
}
