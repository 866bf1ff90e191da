package predictor

import (
	"errors"
	"fmt"
	"math"

	"github.com/ppfkit/ppf/native/policy"
)

// Sentinel errors, wrapped with %w; test with errors.Is.
var (
	// ErrBadSpace is wrapped when a Space cannot describe a model: no
	// layers, negative counts, minimums above the unit counts.
	ErrBadSpace = errors.New("bad pruning space")
	// ErrBadPolicy is wrapped when a policy does not fit its Space. It is
	// policy.ErrBadPolicy, the engine's too.
	ErrBadPolicy = policy.ErrBadPolicy
	// ErrUnreachable is wrapped when a ratio cannot be met within the
	// Space's minimums. It is policy.ErrUnreachable.
	ErrUnreachable = policy.ErrUnreachable
	// ErrMismatch is wrapped when a file or record was made for another
	// model, layer count or format version.
	ErrMismatch = errors.New("made for another model or version")
)

// LayerSpace is what can be pruned in one layer.
type LayerSpace struct {
	HeadUnits    int `json:"head_units"`     // prunable attention units: key/value groups
	HeadUnitCost int `json:"head_unit_cost"` // parameters one unit removes: its q and o rows/columns and its k and v rows
	MLPUnits     int `json:"mlp_units"`      // SwiGLU intermediate channels
	MLPUnitCost  int `json:"mlp_unit_cost"`  // parameters one channel removes: a row of gate and up and a column of down (3·dim)
	MinHeadUnits int `json:"min_head_units"` // the least a layer that is not dropped keeps
	MinMLPUnits  int `json:"min_mlp_units"`
}

// Space describes what can be pruned in a model: one entry per layer. It
// is this package's own description, independent of the engine; for a
// Llama model build it with NewLlamaSpace.
type Space struct {
	ModelID string       `json:"model_id"` // names the model the predictor was trained for; files for another ID are refused
	Layers  []LayerSpace `json:"layers"`
}

// LlamaDims are the sizes of a Llama model that set its pruning space.
type LlamaDims struct {
	Layers  int `json:"layers"`
	Dim     int `json:"dim"`
	Heads   int `json:"heads"`    // query heads per layer
	KVHeads int `json:"kv_heads"` // key/value heads per layer: the attention units
	HeadDim int `json:"head_dim"` // 0: Dim/Heads
	Hidden  int `json:"hidden"`   // SwiGLU channels per layer
}

// NewLlamaSpace returns the Space of a Llama model with the same unit
// costs as the pruning engine: a key/value group of h query heads costs
// (2h+2)·HeadDim·Dim parameters, a channel 3·Dim. Every layer keeps at
// least minHeadUnits groups and minMLPUnits channels (the engine's
// default is 1 and 1).
func NewLlamaSpace(modelID string, d LlamaDims, minHeadUnits, minMLPUnits int) (Space, error) {
	if d.Layers <= 0 || d.Dim <= 0 || d.Heads <= 0 || d.KVHeads <= 0 || d.Hidden <= 0 || d.Heads%d.KVHeads != 0 {
		return Space{}, fmt.Errorf("%w: dims %+v: layers, dim, heads, kv_heads and hidden must be positive and heads a multiple of kv_heads", ErrBadSpace, d)
	}
	hd := d.HeadDim
	if hd == 0 {
		hd = d.Dim / d.Heads
	}
	hpg := d.Heads / d.KVHeads
	s := Space{ModelID: modelID, Layers: make([]LayerSpace, d.Layers)}
	for i := range s.Layers {
		s.Layers[i] = LayerSpace{
			HeadUnits: d.KVHeads, HeadUnitCost: policy.GroupCost(hpg, hd, d.Dim),
			MLPUnits: d.Hidden, MLPUnitCost: policy.ChannelCost(d.Dim),
			MinHeadUnits: min(minHeadUnits, d.KVHeads), MinMLPUnits: min(minMLPUnits, d.Hidden),
		}
	}
	return s, s.Validate()
}

// Validate checks that s describes a model: a model ID, at least one
// layer, non-negative counts and costs, minimums within the counts.
func (s Space) Validate() error {
	if s.ModelID == "" {
		return fmt.Errorf("%w: no model ID; set Space.ModelID to name the model (e.g. \"stories260K\")", ErrBadSpace)
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("%w: model %q has no layers", ErrBadSpace, s.ModelID)
	}
	total := 0
	for i, l := range s.Layers {
		if l.HeadUnits < 0 || l.MLPUnits < 0 || l.HeadUnitCost < 0 || l.MLPUnitCost < 0 {
			return fmt.Errorf("%w: layer %d has negative units or costs: %+v", ErrBadSpace, i, l)
		}
		if l.MinHeadUnits < 0 || l.MinHeadUnits > l.HeadUnits || l.MinMLPUnits < 0 || l.MinMLPUnits > l.MLPUnits {
			return fmt.Errorf("%w: layer %d minimums %d heads and %d channels must lie within 0 and its %d heads and %d channels",
				ErrBadSpace, i, l.MinHeadUnits, l.MinMLPUnits, l.HeadUnits, l.MLPUnits)
		}
		total += l.HeadUnits*l.HeadUnitCost + l.MLPUnits*l.MLPUnitCost
	}
	if total == 0 {
		return fmt.Errorf("%w: model %q has no prunable parameters", ErrBadSpace, s.ModelID)
	}
	return nil
}

// Params counts the prunable parameters of the dense model.
func (s Space) Params() int {
	n := 0
	for _, l := range s.Layers {
		n += l.HeadUnits*l.HeadUnitCost + l.MLPUnits*l.MLPUnitCost
	}
	return n
}

// MaxRatio is the largest global ratio reachable without dropping layers:
// every layer down to its minimums.
func (s Space) MaxRatio() float64 {
	kept := 0
	for _, l := range s.Layers {
		kept += l.MinHeadUnits*l.HeadUnitCost + l.MinMLPUnits*l.MLPUnitCost
	}
	return 1 - float64(kept)/float64(s.Params())
}

// Equal reports whether s and o describe the same model and units.
func (s Space) Equal(o Space) bool {
	if s.ModelID != o.ModelID || len(s.Layers) != len(o.Layers) {
		return false
	}
	for i := range s.Layers {
		if s.Layers[i] != o.Layers[i] {
			return false
		}
	}
	return true
}

// LayerPolicy says how much of one layer a policy keeps: key/value
// groups (HeadUnits), MLP channels (MLPUnits), or nothing (Drop). It is
// the engine's vocabulary too (native/policy).
type LayerPolicy = policy.LayerPolicy

// Policy is a layer-wise pruning decision: the units each layer keeps.
type Policy = policy.Policy

// Dense is the policy that keeps everything.
func (s Space) Dense() Policy {
	p := Policy{Layers: make([]LayerPolicy, len(s.Layers))}
	for i, l := range s.Layers {
		p.Layers[i] = LayerPolicy{HeadUnits: l.HeadUnits, MLPUnits: l.MLPUnits}
	}
	return p
}

// ValidatePolicy checks p against s: one entry per layer, counts between the
// minimums and what the layer has, dropped layers empty.
func (s Space) ValidatePolicy(p Policy) error {
	if len(p.Layers) != len(s.Layers) {
		return fmt.Errorf("%w: the policy has %d layers, model %q has %d; was it made for another model?",
			ErrBadPolicy, len(p.Layers), s.ModelID, len(s.Layers))
	}
	for i, lp := range p.Layers {
		l := s.Layers[i]
		if lp.Drop {
			if lp.HeadUnits != 0 || lp.MLPUnits != 0 {
				return fmt.Errorf("%w: layer %d is dropped but keeps %d head units and %d channels; a dropped layer keeps 0 and 0",
					ErrBadPolicy, i, lp.HeadUnits, lp.MLPUnits)
			}
			continue
		}
		if lp.HeadUnits < l.MinHeadUnits || lp.HeadUnits > l.HeadUnits || lp.MLPUnits < l.MinMLPUnits || lp.MLPUnits > l.MLPUnits {
			return fmt.Errorf("%w: layer %d keeps %d head units and %d channels; it must keep %d to %d and %d to %d (or be dropped)",
				ErrBadPolicy, i, lp.HeadUnits, lp.MLPUnits, l.MinHeadUnits, l.HeadUnits, l.MinMLPUnits, l.MLPUnits)
		}
	}
	return nil
}

// Removed counts the parameters p removes. p must have one entry per
// layer of s.
func (s Space) Removed(p Policy) int {
	n := 0
	for i, l := range s.Layers {
		lp := p.Layers[i]
		n += (l.HeadUnits-lp.HeadUnits)*l.HeadUnitCost + (l.MLPUnits-lp.MLPUnits)*l.MLPUnitCost
	}
	return n
}

// Ratio is the global pruning ratio of p: the fraction of the prunable
// parameters it removes. p must have one entry per layer of s.
func (s Space) Ratio(p Policy) float64 {
	return float64(s.Removed(p)) / float64(s.Params())
}

// Fractions returns the kept fractions of p, per layer: of the head units
// and of the MLP channels (0 and 0 for a dropped layer; 1 for a layer
// without such units). p must have one entry per layer of s.
func (s Space) Fractions(p Policy) (heads, mlp []float64) {
	heads, mlp = make([]float64, len(s.Layers)), make([]float64, len(s.Layers))
	s.fractionsInto(p, heads, mlp)
	return heads, mlp
}

func (s Space) fractionsInto(p Policy, heads, mlp []float64) {
	for i, l := range s.Layers {
		lp := p.Layers[i]
		heads[i], mlp[i] = frac(lp.HeadUnits, l.HeadUnits), frac(lp.MLPUnits, l.MLPUnits)
	}
}

func frac(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// FromFractions builds the policy that keeps the given fractions of each
// layer's head units and channels (each in [0, 1]), rounded to the
// nearest unit and clamped to the minimums; a layer whose two fractions
// are both 0 is dropped. The global ratio is whatever rounding gives: use
// Allocate to meet a ratio.
func (s Space) FromFractions(heads, mlp []float64) (Policy, error) {
	if len(heads) != len(s.Layers) || len(mlp) != len(s.Layers) {
		return Policy{}, fmt.Errorf("%w: %d head and %d MLP fractions for model %q of %d layers",
			ErrBadPolicy, len(heads), len(mlp), s.ModelID, len(s.Layers))
	}
	p := Policy{Layers: make([]LayerPolicy, len(s.Layers))}
	for i, l := range s.Layers {
		h, m := heads[i], mlp[i]
		if !(h >= 0 && h <= 1 && m >= 0 && m <= 1) {
			return Policy{}, fmt.Errorf("%w: layer %d kept fractions %v and %v must lie in [0, 1]", ErrBadPolicy, i, h, m)
		}
		if h == 0 && m == 0 {
			p.Layers[i] = LayerPolicy{Drop: true}
			continue
		}
		p.Layers[i] = LayerPolicy{
			HeadUnits: min(max(int(math.Round(h*float64(l.HeadUnits))), l.MinHeadUnits), l.HeadUnits),
			MLPUnits:  min(max(int(math.Round(m*float64(l.MLPUnits))), l.MinMLPUnits), l.MLPUnits),
		}
	}
	return p, nil
}
