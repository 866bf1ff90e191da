package prune

import (
	"fmt"
	"slices"

	"github.com/ppfkit/ppf/native"
)

// Masked is a model with a plan applied as masks, until Reset.
type Masked struct {
	m                 *native.Model
	attnBias, mlpBias [][]float32 // the layers' own biases, restored by Reset
}

// Apply prunes m in place, reversibly: removed query heads (whole KV
// groups) and MLP channels are switched off with Layer.HeadMask and
// Layer.ChannelMask, dropped layers lose both, and the plan's
// compensation is added to the layers' biases. Nothing is copied, so one
// loaded model can evaluate many plans: Apply, measure, Reset. The model
// must have no masks already (Reset the previous Apply first).
func Apply(m *native.Model, p *Plan) (*Masked, error) {
	if err := p.Validate(m); err != nil {
		return nil, err
	}
	for i, l := range m.Layers {
		if l.HeadMask != nil || l.ChannelMask != nil {
			return nil, fmt.Errorf("%w: layer %d already has masks; Reset the previous Apply first", ErrBadPolicy, i)
		}
	}
	mk := &Masked{m: m, attnBias: make([][]float32, len(m.Layers)), mlpBias: make([][]float32, len(m.Layers))}
	for i := range m.Layers {
		l := &m.Layers[i]
		mk.attnBias[i], mk.mlpBias[i] = l.AttnBias, l.MLPBias
		if p.Policy.Layers[i].Drop {
			l.HeadMask, l.ChannelMask = make([]bool, l.NumHeads), make([]bool, l.HiddenDim)
			l.AttnBias, l.MLPBias = nil, nil
			continue
		}
		if len(p.Groups[i]) < l.NumKVHeads {
			hpg := l.NumHeads / l.NumKVHeads
			l.HeadMask = make([]bool, l.NumHeads)
			for _, g := range p.Groups[i] {
				for h := g * hpg; h < (g+1)*hpg; h++ {
					l.HeadMask[h] = true
				}
			}
		}
		if len(p.Channels[i]) < l.HiddenDim {
			l.ChannelMask = make([]bool, l.HiddenDim)
			for _, c := range p.Channels[i] {
				l.ChannelMask[c] = true
			}
		}
		l.AttnBias, l.MLPBias = addBias(l.AttnBias, biasOf(p.AttnBias, i)), addBias(l.MLPBias, biasOf(p.MLPBias, i))
	}
	return mk, nil
}

// Reset removes the masks and restores the biases the layers had before
// Apply.
func (mk *Masked) Reset() {
	for i := range mk.m.Layers {
		l := &mk.m.Layers[i]
		l.HeadMask, l.ChannelMask = nil, nil
		l.AttnBias, l.MLPBias = mk.attnBias[i], mk.mlpBias[i]
	}
}

func biasOf(bs [][]float32, i int) []float32 {
	if bs == nil {
		return nil
	}
	return bs[i]
}

// addBias returns a new slice own + extra, or own itself when extra is nil.
func addBias(own, extra []float32) []float32 {
	if extra == nil {
		return own
	}
	out := slices.Clone(extra)
	for i := range own {
		out[i] += own[i]
	}
	return out
}

// Slice returns a new, smaller model with the plan's units physically
// removed: q, k, v and o keep the rows and columns of the kept KV groups
// (and their query heads), gate, up and down those of the kept channels,
// dropped layers are gone (Config.NumLayers shrinks), and the
// compensation is added to each layer's biases. Each layer records its
// own NumHeads, NumKVHeads and HiddenDim; Config keeps the unpruned sizes.
// The embedding, classifier and final norm are shared with m (read-only);
// layer weights are copied. m must have no masks (Reset first).
func Slice(m *native.Model, p *Plan) (*native.Model, error) {
	if err := p.Validate(m); err != nil {
		return nil, err
	}
	out := &native.Model{Config: m.Config, Embedding: m.Embedding, FinalNorm: m.FinalNorm, Output: m.Output}
	D, hd := m.Dim, m.HeadDim
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.HeadMask != nil || l.ChannelMask != nil {
			return nil, fmt.Errorf("%w: layer %d has masks; Reset them before slicing", ErrBadPolicy, i)
		}
		if p.Policy.Layers[i].Drop {
			continue
		}
		var heads []int // query heads kept
		if l.NumKVHeads > 0 {
			hpg := l.NumHeads / l.NumKVHeads
			for _, g := range p.Groups[i] {
				for h := g * hpg; h < (g+1)*hpg; h++ {
					heads = append(heads, h)
				}
			}
		}
		nl := native.Layer{
			NumHeads: len(heads), NumKVHeads: len(p.Groups[i]), HiddenDim: len(p.Channels[i]),
			AttnNorm: slices.Clone(l.AttnNorm), MLPNorm: slices.Clone(l.MLPNorm),
			Wq:       takeRows(l.Wq, D, hd, heads),
			Wk:       takeRows(l.Wk, D, hd, p.Groups[i]),
			Wv:       takeRows(l.Wv, D, hd, p.Groups[i]),
			Wo:       takeCols(l.Wo, D, l.NumHeads*hd, hd, heads),
			Gate:     takeRows(l.Gate, D, 1, p.Channels[i]),
			Up:       takeRows(l.Up, D, 1, p.Channels[i]),
			Down:     takeCols(l.Down, D, l.HiddenDim, 1, p.Channels[i]),
			AttnBias: slices.Clone(addBias(l.AttnBias, biasOf(p.AttnBias, i))),
			MLPBias:  slices.Clone(addBias(l.MLPBias, biasOf(p.MLPBias, i))),
		}
		out.Layers = append(out.Layers, nl)
	}
	out.NumLayers = len(out.Layers)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("slice: %w", err) // a bug, not bad input
	}
	return out, nil
}

// takeRows copies, from a matrix with rows of width cols, the blocks of
// block rows whose indices are listed.
func takeRows(w []float32, cols, block int, idx []int) []float32 {
	out := make([]float32, 0, len(idx)*block*cols)
	for _, b := range idx {
		out = append(out, w[b*block*cols:(b+1)*block*cols]...)
	}
	return out
}

// takeCols copies, from a (rows, cols) matrix, the blocks of block
// columns whose indices are listed.
func takeCols(w []float32, rows, cols, block int, idx []int) []float32 {
	out := make([]float32, 0, rows*len(idx)*block)
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		for _, b := range idx {
			out = append(out, row[b*block:(b+1)*block]...)
		}
	}
	return out
}
