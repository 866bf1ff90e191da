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
// (ppfnb/predictor, ppfnb/agent) describe the same decision in two
// vocabularies: prune counts query heads and channels kept per layer,
// the predictor counts key/value groups ("head units") and channels.
// The predictor cannot import the engine (it builds for the browser), so
// the conversion lives here, one level up.

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

// ToPrunePolicy converts a predictor policy (key/value groups kept) into
// the engine's (query heads kept) for a model of shape s.
func ToPrunePolicy(s prune.Shape, p predictor.Policy) (prune.Policy, error) {
	if len(p.Layers) != len(s.Layers) {
		return prune.Policy{}, fmt.Errorf("%w: the policy has %d layers, the model %d; was it made for another model?",
			predictor.ErrBadPolicy, len(p.Layers), len(s.Layers))
	}
	out := prune.Policy{Layers: make([]prune.LayerPolicy, len(p.Layers))}
	for i, lp := range p.Layers {
		if lp.Drop {
			out.Layers[i] = prune.LayerPolicy{Drop: true}
			continue
		}
		out.Layers[i] = prune.LayerPolicy{Heads: lp.HeadUnits * s.Layers[i].HeadsPerGroup(), Channels: lp.MLPUnits}
	}
	return out, out.Validate(s)
}

// FromPrunePolicy converts an engine policy (a baseline's, say) into the
// predictor's vocabulary for a model of shape s.
func FromPrunePolicy(s prune.Shape, p prune.Policy) (predictor.Policy, error) {
	if err := p.Validate(s); err != nil {
		return predictor.Policy{}, err
	}
	out := predictor.Policy{Layers: make([]predictor.LayerPolicy, len(p.Layers))}
	for i, lp := range p.Layers {
		if lp.Drop {
			out.Layers[i] = predictor.LayerPolicy{Drop: true}
			continue
		}
		g := s.Layers[i].HeadsPerGroup()
		out.Layers[i] = predictor.LayerPolicy{HeadUnits: lp.Heads / max(g, 1), MLPUnits: lp.Channels}
	}
	return out, nil
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
