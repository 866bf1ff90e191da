package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// parsePolicy reads a policy (key/value groups and channels kept per
// layer, as ppf prune --json prints it), given inline or as @FILE.
func parsePolicy(s string) (predictor.Policy, error) {
	src := s
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(rest)
		if err != nil {
			return predictor.Policy{}, fmt.Errorf("--policy: %w", err)
		}
		src = string(b)
	}
	var p predictor.Policy
	dec := json.NewDecoder(bytes.NewReader([]byte(src)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf(`--policy: %v; write {"layers":[{"head_units":4,"mlp_units":120},...]}, one entry per layer (key/value groups and MLP channels kept; "drop":true drops a layer)`, err)
	}
	return p, nil
}

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "--predictor P (--policy JSON|@FILE | --agent A --ratio R) [--model M] [--json]", stderr)
	prPath := fs.String("predictor", "", "predictor file (required)")
	model := fs.String("model", "", "check that the predictor was trained for this model")
	policy := fs.String("policy", "", `policy to score: JSON {"layers":[{"head_units":..,"mlp_units":..},...]} or @FILE`)
	agPath := fs.String("agent", "", "score the agent's policy at --ratio instead")
	ratioFlag := requiredRatio(fs, "ratio", "ratio for --agent, in [0, 1)")
	ratio := ratioFlag.p
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *prPath == "" || (*policy == "") == (*agPath == "") {
		fs.Usage()
		return fmt.Errorf("--predictor is required, and one of --policy or --agent")
	}
	pr, err := loadPredictor(*prPath, *model)
	if err != nil {
		return err
	}
	var p predictor.Policy
	if *agPath != "" {
		a, err := agent.Load(*agPath, pr.Space())
		if err != nil {
			return err
		}
		if !ratioFlag.set {
			return fmt.Errorf("--agent needs --ratio")
		}
		if p, err = a.Policy(*ratio); err != nil {
			return err
		}
	} else if p, err = parsePolicy(*policy); err != nil {
		return err
	}
	y, err := pr.Score(p)
	if err != nil {
		return err
	}
	space := pr.Space()
	out := struct {
		ModelID    string           `json:"model_id"`
		Ratio      float64          `json:"ratio"`
		Perplexity float64          `json:"perplexity"`
		LogPPL     float64          `json:"log_perplexity"`
		Policy     predictor.Policy `json:"policy"`
	}{space.ModelID, space.Ratio(p), math.Exp(y), y, p}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "predicted perplexity %.4f (log %.4f) for a policy removing %.4f of %s's prunable parameters\n",
		out.Perplexity, y, out.Ratio, space.ModelID)
	return nil
}
