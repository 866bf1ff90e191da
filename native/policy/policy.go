// Package policy is what the pruning engine (native/prune) and the
// predictor and agent (ppfnb/predictor, ppfnb/agent) must agree on about a
// layer-wise pruning policy: the errors that reject one, and what its
// units cost in parameters. It imports nothing of the engine, so the
// browser build of the predictor shares it.
//
// The units: attention is pruned by key/value groups (one key/value head
// with the query heads that read it), the MLP by SwiGLU channels, and a
// whole layer can be dropped. A Policy counts the units each layer keeps;
// the predictor's Policy is this one, and the engine's prune.Policy is a
// type of the same structure (convert with prune.Policy(p) and
// policy.Policy(p)) with methods that measure it against a model's shape.
package policy

import "errors"

// Sentinel errors, wrapped with %w by prune, predictor and agent (which
// also export them under their own names); test with errors.Is.
var (
	// ErrBadPolicy is wrapped when a policy does not fit its model: another
	// layer count, more units than a layer has, fewer than the minimums, a
	// head count that splits a key/value group.
	ErrBadPolicy = errors.New("bad pruning policy")
	// ErrUnreachable is wrapped when a ratio cannot be met with the
	// minimums every layer keeps.
	ErrUnreachable = errors.New("pruning ratio out of reach")
)

// LayerPolicy says how much of one layer a policy keeps, in units.
type LayerPolicy struct {
	HeadUnits int  `json:"head_units"`     // key/value groups kept, each with its query heads
	MLPUnits  int  `json:"mlp_units"`      // MLP channels kept
	Drop      bool `json:"drop,omitempty"` // the whole layer is removed; the counts are then 0
}

// Policy is a layer-wise pruning decision: the units each layer keeps,
// and which layers are dropped. Which units is a plan's business
// (native/prune); datasets, the predictor and the agent store policies in
// this form.
type Policy struct {
	Layers []LayerPolicy `json:"layers"`
}

// GroupCost is the parameter count of one key/value group of
// headsPerGroup query heads: their rows of q and columns of o, and the
// group's rows of k and v.
func GroupCost(headsPerGroup, headDim, dim int) int {
	return (2*headsPerGroup + 2) * headDim * dim
}

// ChannelCost is the parameter count of one MLP channel: a row of gate and
// of up and a column of down.
func ChannelCost(dim int) int { return 3 * dim }
