package prune

import (
	"errors"
	"fmt"
	"math"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/policy"
)

// Sentinel errors, wrapped with %w; test with errors.Is.
var (
	// ErrBadPolicy is wrapped when a policy or plan does not fit the model:
	// another layer count, more heads or channels than a layer has, fewer
	// than the minimums, a head count that splits a key/value group. It is
	// policy.ErrBadPolicy, the predictor's too.
	ErrBadPolicy = policy.ErrBadPolicy
	// ErrUnreachable is wrapped when the requested ratio cannot be reached
	// with the minimums every layer keeps. It is policy.ErrUnreachable.
	ErrUnreachable = policy.ErrUnreachable
	// ErrCalibration is wrapped when calibration text or statistics cannot
	// serve: too short, or gathered on another model.
	ErrCalibration = errors.New("calibration")
)

// LayerShape is the prunable structure of one layer.
type LayerShape struct {
	Heads    int `json:"heads"`    // query heads
	KVHeads  int `json:"kv_heads"` // key/value heads: the attention pruning unit, a KV group
	Channels int `json:"channels"` // SwiGLU intermediate channels
}

// HeadsPerGroup is the number of query heads that share one key/value head.
func (l LayerShape) HeadsPerGroup() int {
	if l.KVHeads == 0 {
		return 0
	}
	return l.Heads / l.KVHeads
}

// Shape is what pruning needs to know of a model: each layer's heads and
// channels, the sizes that set their parameter cost, and the least a kept
// layer keeps.
type Shape struct {
	Dim     int          `json:"dim"`
	HeadDim int          `json:"head_dim"`
	Layers  []LayerShape `json:"layers"`

	// MinGroups and MinChannels are the least every layer that is not
	// dropped keeps: KV groups (each with its query heads) and MLP
	// channels. ShapeOf sets 1 and 1; 0 allows emptying a layer's
	// attention or MLP (its compensation bias, if any, then stands in).
	MinGroups   int `json:"min_groups"`
	MinChannels int `json:"min_channels"`
}

// ShapeOf returns the shape of m, with the minimums 1 and 1.
func ShapeOf(m *native.Model) Shape {
	s := Shape{Dim: m.Dim, HeadDim: m.HeadDim, Layers: make([]LayerShape, len(m.Layers)), MinGroups: 1, MinChannels: 1}
	for i, l := range m.Layers {
		s.Layers[i] = LayerShape{Heads: l.NumHeads, KVHeads: l.NumKVHeads, Channels: l.HiddenDim}
	}
	return s
}

// GroupParams is the parameter count of one KV group of layer i: its
// query heads' rows of q and columns of o, and its head's rows of k and v.
func (s Shape) GroupParams(i int) int {
	return policy.GroupCost(s.Layers[i].HeadsPerGroup(), s.HeadDim, s.Dim)
}

// ChannelParams is the parameter count of one MLP channel: a row of gate
// and of up and a column of down.
func (s Shape) ChannelParams() int { return policy.ChannelCost(s.Dim) }

// Params counts the prunable parameters: q, k, v, o, gate, up and down of
// every layer. Embeddings, the classifier, norms and biases are excluded.
func (s Shape) Params() int {
	n := 0
	for i, l := range s.Layers {
		n += l.KVHeads*s.GroupParams(i) + l.Channels*s.ChannelParams()
	}
	return n
}

// minGroups and minChannels are the minimums of layer i, never more than
// it has.
func (s Shape) minGroups(i int) int   { return min(max(s.MinGroups, 0), s.Layers[i].KVHeads) }
func (s Shape) minChannels(i int) int { return min(max(s.MinChannels, 0), s.Layers[i].Channels) }

// LayerPolicy says how much of one layer to keep: key/value groups
// (HeadUnits, each with its query heads), MLP channels (MLPUnits), or
// nothing (Drop). It is native/policy's, shared with the predictor.
type LayerPolicy = policy.LayerPolicy

// Policy is a layer-wise pruning decision: how many key/value groups and
// channels each layer keeps, and which layers are dropped. Which groups
// and channels is a Plan's business. It has the structure of
// policy.Policy, the predictor's: convert with Policy(p) and
// policy.Policy(p); its methods measure it against a Shape.
type Policy policy.Policy

// Dense is the policy that keeps everything.
func Dense(s Shape) Policy {
	p := Policy{Layers: make([]LayerPolicy, len(s.Layers))}
	for i, l := range s.Layers {
		p.Layers[i] = LayerPolicy{HeadUnits: l.KVHeads, MLPUnits: l.Channels}
	}
	return p
}

// Validate checks p against s: one entry per layer, counts between the
// minimums and what the layer has, dropped layers empty.
func (p Policy) Validate(s Shape) error {
	if len(p.Layers) != len(s.Layers) {
		return fmt.Errorf("%w: the policy has %d layers, the model %d; was it made for another model?",
			ErrBadPolicy, len(p.Layers), len(s.Layers))
	}
	for i, lp := range p.Layers {
		l := s.Layers[i]
		if lp.Drop {
			if lp.HeadUnits != 0 || lp.MLPUnits != 0 {
				return fmt.Errorf("%w: layer %d is dropped but keeps %d key/value groups and %d channels; a dropped layer keeps 0 and 0",
					ErrBadPolicy, i, lp.HeadUnits, lp.MLPUnits)
			}
			continue
		}
		if lp.HeadUnits < 0 || lp.HeadUnits > l.KVHeads || lp.MLPUnits < 0 || lp.MLPUnits > l.Channels {
			return fmt.Errorf("%w: layer %d keeps %d key/value groups and %d channels, but has %d and %d; was the policy made for another model?",
				ErrBadPolicy, i, lp.HeadUnits, lp.MLPUnits, l.KVHeads, l.Channels)
		}
		if lp.HeadUnits < s.minGroups(i) {
			return fmt.Errorf("%w: layer %d keeps %d key/value groups, fewer than the minimum of %d; keep more or lower MinGroups",
				ErrBadPolicy, i, lp.HeadUnits, s.minGroups(i))
		}
		if lp.MLPUnits < s.minChannels(i) {
			return fmt.Errorf("%w: layer %d keeps %d MLP channels, fewer than the minimum of %d; keep more or lower MinChannels",
				ErrBadPolicy, i, lp.MLPUnits, s.minChannels(i))
		}
	}
	return nil
}

// Params counts the prunable parameters p keeps (see Shape.Params).
func (p Policy) Params(s Shape) int {
	n := 0
	for i, lp := range p.Layers {
		if i < len(s.Layers) && !lp.Drop {
			n += lp.HeadUnits*s.GroupParams(i) + lp.MLPUnits*s.ChannelParams()
		}
	}
	return n
}

// Ratio is the global pruning ratio of p: the fraction of the prunable
// parameters (Shape.Params) it removes.
func (p Policy) Ratio(s Shape) float64 {
	total := s.Params()
	if total == 0 {
		return 0
	}
	return 1 - float64(p.Params(s))/float64(total)
}

// Ratios returns the per-layer pruning ratios of p, the fraction of
// key/value groups (so of query heads) and of MLP channels each layer removes (1 and 1 for a dropped layer):
// the policy's features for a predictor.
func (p Policy) Ratios(s Shape) (heads, mlp []float64) {
	heads, mlp = make([]float64, len(p.Layers)), make([]float64, len(p.Layers))
	for i, lp := range p.Layers {
		if i >= len(s.Layers) {
			break
		}
		l := s.Layers[i]
		heads[i], mlp[i] = 1-frac(lp.HeadUnits, l.KVHeads), 1-frac(lp.MLPUnits, l.Channels)
		if lp.Drop {
			heads[i], mlp[i] = 1, 1
		}
	}
	return heads, mlp
}

func frac(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// FromRatios builds the policy with the given per-layer pruning ratios
// (fractions of key/value groups and of channels removed, each in [0, 1]).
// Counts round to the nearest group and the nearest channel; a layer whose two ratios are both 1 is dropped. The
// result must pass Validate (the minimums apply); the global ratio is
// whatever the rounding gives: use Allocate to meet a global ratio.
func FromRatios(s Shape, heads, mlp []float64) (Policy, error) {
	if len(heads) != len(s.Layers) || len(mlp) != len(s.Layers) {
		return Policy{}, fmt.Errorf("%w: %d head ratios and %d MLP ratios for a model of %d layers",
			ErrBadPolicy, len(heads), len(mlp), len(s.Layers))
	}
	p := Policy{Layers: make([]LayerPolicy, len(s.Layers))}
	for i, l := range s.Layers {
		if err := checkRatio("layer head", heads[i], true); err != nil {
			return Policy{}, fmt.Errorf("layer %d: %w", i, err)
		}
		if err := checkRatio("layer MLP", mlp[i], true); err != nil {
			return Policy{}, fmt.Errorf("layer %d: %w", i, err)
		}
		if heads[i] == 1 && mlp[i] == 1 {
			p.Layers[i] = LayerPolicy{Drop: true}
			continue
		}
		groups := int(math.Round((1 - heads[i]) * float64(l.KVHeads)))
		p.Layers[i] = LayerPolicy{HeadUnits: groups, MLPUnits: int(math.Round((1 - mlp[i]) * float64(l.Channels)))}
	}
	return p, p.Validate(s)
}

// checkRatio accepts r in [0, 1), or [0, 1] when one is allowed.
func checkRatio(what string, r float64, one bool) error {
	if math.IsNaN(r) || r < 0 || r > 1 || (r == 1 && !one) {
		limit := "[0, 1)"
		if one {
			limit = "[0, 1]"
		}
		return fmt.Errorf("%w: %s ratio %v is outside %s; it is the fraction of parameters removed",
			ErrBadPolicy, what, r, limit)
	}
	return nil
}

// maxRatio is the largest global ratio s allows without dropping layers.
func (s Shape) maxRatio() float64 {
	total := s.Params()
	if total == 0 {
		return 0
	}
	kept := 0
	for i := range s.Layers {
		kept += s.minGroups(i)*s.GroupParams(i) + s.minChannels(i)*s.ChannelParams()
	}
	return 1 - float64(kept)/float64(total)
}
