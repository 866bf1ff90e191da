package native

import (
	"errors"
	"fmt"
)

// ErrBadModel is wrapped by every error about a checkpoint that cannot be
// used: a wrong magic number, a truncated file, inconsistent shapes.
var ErrBadModel = errors.New("bad model")

// ErrUnsupportedModel is wrapped when a checkpoint is valid but uses a
// feature the engine does not implement (a quantized format, another
// architecture).
var ErrUnsupportedModel = errors.New("unsupported model")

// Config holds the architecture of a Llama-family model. Per-layer sizes
// (heads, MLP width) live in each Layer, because pruning makes them differ;
// the Config fields give the sizes of an unpruned layer.
type Config struct {
	Dim        int // width of the residual stream
	HiddenDim  int // SwiGLU intermediate width of an unpruned layer
	NumLayers  int
	NumHeads   int // query heads of an unpruned layer
	NumKVHeads int // key/value heads of an unpruned layer (grouped-query attention when < NumHeads)
	HeadDim    int // width of one head, usually Dim/NumHeads
	VocabSize  int
	SeqLen     int // longest context the model was trained for

	RopeTheta   float64      // RoPE base frequency (10000 for Llama 2, 500000 for Llama 3)
	RopeScaling *RopeScaling // Llama 3.1 frequency scaling, nil when absent
	NormEps     float32      // RMSNorm epsilon

	// SharedClassifier says the output layer reuses the token embedding.
	SharedClassifier bool
}

// RopeScaling is Llama 3.1's "llama3" rope_scaling block of config.json.
type RopeScaling struct {
	Factor          float64 `json:"factor"`
	LowFreqFactor   float64 `json:"low_freq_factor"`
	HighFreqFactor  float64 `json:"high_freq_factor"`
	OriginalContext int     `json:"original_max_position_embeddings"`
}

// Layer is one transformer block. All matrices are row-major with shape
// (out, in), the layout of PyTorch's nn.Linear weights and of llama2.c.
type Layer struct {
	NumHeads   int // query heads kept in this layer (0: attention removed)
	NumKVHeads int // key/value heads kept; NumHeads is a multiple of it
	HiddenDim  int // MLP channels kept (0: MLP removed)

	AttnNorm []float32 // (Dim)
	Wq       []float32 // (NumHeads*HeadDim, Dim)
	Wk       []float32 // (NumKVHeads*HeadDim, Dim)
	Wv       []float32 // (NumKVHeads*HeadDim, Dim)
	Wo       []float32 // (Dim, NumHeads*HeadDim)
	AttnBias []float32 // (Dim) added after Wo, nil if none (pruning's compensation)

	MLPNorm []float32 // (Dim)
	Gate    []float32 // (HiddenDim, Dim), w1 in llama2.c
	Up      []float32 // (HiddenDim, Dim), w3 in llama2.c
	Down    []float32 // (Dim, HiddenDim), w2 in llama2.c
	MLPBias []float32 // (Dim) added after Down, nil if none

	// Masks prune without changing shapes: a false entry removes that query
	// head's output or that MLP channel, reversibly. nil keeps everything.
	HeadMask    []bool // (NumHeads)
	ChannelMask []bool // (HiddenDim)
}

// Model is a Llama-family model: a config and plain weight slices.
// RoPE is applied in llama2.c's convention (adjacent pairs of each head are
// rotated); loaders of Hugging Face checkpoints permute Wq and Wk to it.
type Model struct {
	Config
	Embedding []float32 // (VocabSize, Dim)
	Layers    []Layer   // (NumLayers)
	FinalNorm []float32 // (Dim)
	Output    []float32 // (VocabSize, Dim); the same slice as Embedding when SharedClassifier
}

// Validate checks that every tensor has the length its shape requires, so
// that a forward pass can never index out of range.
func (m *Model) Validate() error {
	c := m.Config
	if c.Dim <= 0 || c.VocabSize <= 0 || c.SeqLen <= 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0 {
		return fmt.Errorf("%w: dim %d, vocab %d, seq_len %d, head_dim %d must be positive (head_dim even)",
			ErrBadModel, c.Dim, c.VocabSize, c.SeqLen, c.HeadDim)
	}
	if c.NumLayers != len(m.Layers) {
		return fmt.Errorf("%w: config says %d layers, model has %d", ErrBadModel, c.NumLayers, len(m.Layers))
	}
	check := func(name string, s []float32, n int) error {
		if len(s) != n {
			return fmt.Errorf("%w: %s has %d values, want %d", ErrBadModel, name, len(s), n)
		}
		return nil
	}
	if err := check("embedding", m.Embedding, c.VocabSize*c.Dim); err != nil {
		return err
	}
	if err := check("final norm", m.FinalNorm, c.Dim); err != nil {
		return err
	}
	if err := check("output", m.Output, c.VocabSize*c.Dim); err != nil {
		return err
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.NumHeads < 0 || l.NumKVHeads < 0 || l.HiddenDim < 0 ||
			(l.NumKVHeads == 0) != (l.NumHeads == 0) || (l.NumKVHeads > 0 && l.NumHeads%l.NumKVHeads != 0) {
			return fmt.Errorf("%w: layer %d has %d query heads and %d key/value heads; query heads must be a multiple of key/value heads",
				ErrBadModel, i, l.NumHeads, l.NumKVHeads)
		}
		q, kv, h := l.NumHeads*c.HeadDim, l.NumKVHeads*c.HeadDim, l.HiddenDim
		for _, t := range []struct {
			name string
			s    []float32
			n    int
		}{
			{"attention norm", l.AttnNorm, c.Dim}, {"wq", l.Wq, q * c.Dim}, {"wk", l.Wk, kv * c.Dim},
			{"wv", l.Wv, kv * c.Dim}, {"wo", l.Wo, c.Dim * q}, {"mlp norm", l.MLPNorm, c.Dim},
			{"gate", l.Gate, h * c.Dim}, {"up", l.Up, h * c.Dim}, {"down", l.Down, c.Dim * h},
		} {
			if err := check(fmt.Sprintf("layer %d %s", i, t.name), t.s, t.n); err != nil {
				return err
			}
		}
		if (l.HeadMask != nil && len(l.HeadMask) != l.NumHeads) || (l.ChannelMask != nil && len(l.ChannelMask) != l.HiddenDim) {
			return fmt.Errorf("%w: layer %d masks have %d and %d entries for %d heads and %d channels",
				ErrBadModel, i, len(l.HeadMask), len(l.ChannelMask), l.NumHeads, l.HiddenDim)
		}
		for name, b := range map[string][]float32{"attention bias": l.AttnBias, "mlp bias": l.MLPBias} {
			if b != nil {
				if err := check(fmt.Sprintf("layer %d %s", i, name), b, c.Dim); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// NumParams counts the model's weights, with a shared classifier counted once.
func (m *Model) NumParams() int {
	n := len(m.Embedding) + len(m.FinalNorm)
	if !m.SharedClassifier {
		n += len(m.Output)
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		n += len(l.AttnNorm) + len(l.Wq) + len(l.Wk) + len(l.Wv) + len(l.Wo) + len(l.AttnBias) +
			len(l.MLPNorm) + len(l.Gate) + len(l.Up) + len(l.Down) + len(l.MLPBias)
	}
	return n
}

func (m *Model) String() string {
	c := m.Config
	return fmt.Sprintf("llama dim=%d hidden=%d layers=%d heads=%d kv_heads=%d head_dim=%d vocab=%d seq_len=%d params=%d",
		c.Dim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize, c.SeqLen, m.NumParams())
}
