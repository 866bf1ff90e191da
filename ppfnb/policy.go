package ppfnb

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// The pruning engine (native/prune) and the predictor and agent
// (ppfnb/predictor, ppfnb/agent) describe a policy in one vocabulary
// (native/policy): key/value groups ("head units") and channels kept per
// layer. predictor.Policy is policy.Policy; prune.Policy has its
// structure, with methods against a model's shape: convert with
// prune.Policy(p) and predictor.Policy(p). What needs the engine (a
// model's Space) lives here, one level up, since the predictor builds for
// the browser without it.

// ModelID names a model for datasets, predictor and agent files: the
// name as given when it is one of the shared models ("stories260K"),
// otherwise the base name of the path without its extension
// ("pruned-baby", "model5000"). Files made for one ID are refused for
// another, so keep the same name when resuming or merging.
func ModelID(nameOrPath string) string {
	if slices.Contains(native.ModelNames(), nameOrPath) {
		return nameOrPath
	}
	base := filepath.Base(strings.TrimRight(nameOrPath, `/\`))
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// SpaceOf returns the predictor's Space for a model of shape s: per
// layer, its key/value groups at their parameter cost (GroupParams) and
// its channels (ChannelParams), with s's minimums. It works for sliced
// models whose layers differ, which predictor.NewLlamaSpace does not.
func SpaceOf(modelID string, s prune.Shape) (predictor.Space, error) {
	sp := predictor.Space{ModelID: modelID, Layers: make([]predictor.LayerSpace, len(s.Layers))}
	for i, l := range s.Layers {
		sp.Layers[i] = predictor.LayerSpace{
			HeadUnits: l.KVHeads, HeadUnitCost: s.GroupParams(i),
			MLPUnits: l.Channels, MLPUnitCost: s.ChannelParams(),
			MinHeadUnits: min(max(s.MinGroups, 0), l.KVHeads), MinMLPUnits: min(max(s.MinChannels, 0), l.Channels),
		}
	}
	return sp, sp.Validate()
}

// policyKey is a compact, exact key of a policy, for telling policies
// apart in searches and resumes.
func policyKey(p predictor.Policy) string {
	var sb strings.Builder
	for _, l := range p.Layers {
		if l.Drop {
			sb.WriteString("d;")
			continue
		}
		fmt.Fprintf(&sb, "%d,%d;", l.HeadUnits, l.MLPUnits)
	}
	return sb.String()
}

func clonePolicy(p predictor.Policy) predictor.Policy {
	return predictor.Policy{Layers: slices.Clone(p.Layers)}
}

// ModelSpace loads the checkpoint of a model (no tokenizer, no
// calibration) and returns its pruning Space with the default minimums
// (one key/value group and one channel per layer), as collections make
// it: what a predictor or an agent file for that model must match.
func ModelSpace(nameOrPath string) (predictor.Space, error) {
	path, _, err := native.ResolveModel(nameOrPath)
	if err != nil {
		return predictor.Space{}, err
	}
	m, err := native.LoadModel(path)
	if err != nil {
		return predictor.Space{}, err
	}
	return SpaceOf(ModelID(nameOrPath), prune.ShapeOf(m))
}
