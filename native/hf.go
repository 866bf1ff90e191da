package native

// Hugging Face Llama checkpoints.
//
// A checkpoint is a folder with config.json and the weights in
// model.safetensors, or sharded as model-0000x-of-0000y.safetensors with a
// model.safetensors.index.json whose "weight_map" says which file holds each
// tensor (without an index, every model*.safetensors in the folder is read).
// Weights may be F32, F16 or BF16; they become float32. Tensor names and
// shapes, with D = hidden_size, V = vocab_size, hd = head_dim, and the
// layer's H query heads, K key/value heads and I MLP channels:
//
//	model.embed_tokens.weight                    (V, D)
//	model.layers.N.input_layernorm.weight        (D)
//	model.layers.N.self_attn.q_proj.weight       (H*hd, D)
//	model.layers.N.self_attn.k_proj.weight       (K*hd, D)
//	model.layers.N.self_attn.v_proj.weight       (K*hd, D)
//	model.layers.N.self_attn.o_proj.weight       (D, H*hd)
//	model.layers.N.post_attention_layernorm.weight (D)
//	model.layers.N.mlp.gate_proj.weight          (I, D)
//	model.layers.N.mlp.up_proj.weight            (I, D)
//	model.layers.N.mlp.down_proj.weight          (D, I)
//	model.norm.weight                            (D)
//	lm_head.weight                               (V, D), absent when tied
//
// The output layer is shared with the embedding when tie_word_embeddings is
// true (a stored lm_head.weight is then ignored, as transformers does) or
// when lm_head.weight is absent. Buffers named *.rotary_emb.inv_freq, which
// old conversions stored, are ignored; any other tensor that the config does
// not account for is an error.
//
// RoPE layout. Meta's Llama, and this engine, rotate adjacent pairs (2i,
// 2i+1) of each head. convert_llama_weights_to_hf.py permutes the rows of
// q_proj and k_proj so that transformers can rotate halves (i, i+hd/2)
// instead: within each head, Meta row 2i+j becomes HF row j*hd/2+i, so a
// head's rows [r0 r1 r2 r3] are stored as [r0 r2 r1 r3]. LoadHF undoes this
// (for k_proj with the key/value head count) and SaveHF redoes it.
//
// Config. Read: model_type "llama" (or, when absent, architectures naming
// LlamaForCausalLM); other architectures, even Mistral-like ones that
// differ only by name, are refused with ErrUnsupportedModel, because their
// extra settings (sliding windows and the like) are not implemented.
// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads
// and vocab_size are required; num_key_value_heads defaults to the head
// count, head_dim to hidden_size/num_attention_heads,
// max_position_embeddings (the model's SeqLen) to 2048, rms_norm_eps to
// 1e-6 and rope_theta to 10000 (transformers' defaults). rope_scaling may
// be null or of rope_type (or type) "llama3"; transformers v5's
// rope_parameters block is read the same way. attention_bias or mlp_bias
// true, a hidden_act other than silu and other rope scalings wrap
// ErrUnsupportedModel.
//
// Pruned models (PPF extension). When a layer's sizes differ from the
// config's, config.json has "ppf_layers": one object per layer with its
// num_attention_heads, num_key_value_heads and intermediate_size, and the
// tensors have those sizes. A layer with 0 heads has no q/k/v/o_proj
// tensors and one with intermediate_size 0 no gate/up/down_proj tensors;
// both norms are always stored. A layer may also hold
// model.layers.N.self_attn.o_proj.bias and model.layers.N.mlp.down_proj.bias
// (D), the compensation biases of Layer.AttnBias and Layer.MLPBias; their
// presence is what says they exist. Stock transformers does not read
// ppf_layers and ignores these biases, so only uniform models without
// biases load there.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// hfConfig is the part of config.json this engine reads and writes.
type hfConfig struct {
	Architectures         []string        `json:"architectures,omitempty"`
	ModelType             string          `json:"model_type,omitempty"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads,omitempty"`
	HeadDim               int             `json:"head_dim,omitempty"`
	VocabSize             int             `json:"vocab_size"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings,omitempty"`
	RMSNormEps            json.Number     `json:"rms_norm_eps,omitempty"`
	RopeTheta             float64         `json:"rope_theta,omitempty"`
	RopeScaling           *hfRope         `json:"rope_scaling"`
	RopeParameters        *hfRope         `json:"rope_parameters,omitempty"`
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	HiddenAct             string          `json:"hidden_act,omitempty"`
	TorchDtype            string          `json:"torch_dtype,omitempty"`
	BOSTokenID            json.RawMessage `json:"bos_token_id,omitempty"`
	EOSTokenID            json.RawMessage `json:"eos_token_id,omitempty"`
	PPFLayers             []hfLayerSizes  `json:"ppf_layers,omitempty"`
}

// hfRope is a rope_scaling (or v5 rope_parameters) block.
type hfRope struct {
	RopeType        string  `json:"rope_type,omitempty"`
	Type            string  `json:"type,omitempty"`
	RopeTheta       float64 `json:"rope_theta,omitempty"`
	Factor          float64 `json:"factor,omitempty"`
	LowFreqFactor   float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor  float64 `json:"high_freq_factor,omitempty"`
	OriginalContext int     `json:"original_max_position_embeddings,omitempty"`
}

// hfLayerSizes is one entry of the "ppf_layers" extension.
type hfLayerSizes struct {
	NumAttentionHeads int `json:"num_attention_heads"`
	NumKeyValueHeads  int `json:"num_key_value_heads"`
	IntermediateSize  int `json:"intermediate_size"`
}

// LoadHF loads a Hugging Face Llama checkpoint folder (see the comment at
// the top of hf.go for what it accepts). Errors about the files wrap
// ErrBadModel; valid checkpoints using features the engine lacks wrap
// ErrUnsupportedModel.
func LoadHF(dir string) (*Model, error) {
	m, err := loadHF(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

func loadHF(dir string) (*Model, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open Hugging Face model: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%w: not a folder; pass the folder holding config.json and the .safetensors files", ErrBadModel)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: reading config.json (a Hugging Face checkpoint folder needs one): %w", ErrBadModel, err)
	}
	var hc hfConfig
	if err := json.Unmarshal(b, &hc); err != nil {
		return nil, fmt.Errorf("%w: config.json is not a valid model config: %v", ErrBadModel, err)
	}
	c, sizes, err := hc.toConfig()
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}

	files, where, err := openHFWeights(dir)
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err != nil {
		return nil, err
	}

	// Decide the classifier, then check that the files can hold what the
	// config describes, then every tensor's presence, shape and dtype,
	// before reading (or planning) any of them.
	_, hasHead := where["lm_head.weight"]
	c.SharedClassifier = hc.TieWordEmbeddings || !hasHead
	if err := checkHFBudget(c, sizes, files, len(where)); err != nil {
		return nil, err
	}
	m := &Model{Config: c, Layers: make([]Layer, c.NumLayers)}
	for i, s := range sizes {
		m.Layers[i].NumHeads, m.Layers[i].NumKVHeads, m.Layers[i].HiddenDim = s.NumAttentionHeads, s.NumKeyValueHeads, s.IntermediateSize
	}
	plan := hfPlan(m)
	planned := make(map[string]bool, len(plan))
	for _, t := range plan {
		planned[t.name] = true
		f, ok := where[t.name]
		if !ok {
			if t.optional {
				continue
			}
			return nil, fmt.Errorf("%w: tensor %s is missing (want shape %v; %s)", ErrBadModel, t.name, t.shape, describeLayer(m, t, hc.PPFLayers != nil))
		}
		if got := f.tensors[t.name].Shape; !slices.Equal(got, t.shape) {
			return nil, fmt.Errorf("%w: tensor %s has shape %v, want %v (%s)", ErrBadModel, t.name, got, t.shape, describeLayer(m, t, hc.PPFLayers != nil))
		}
		if err := f.checkReadable(t.name); err != nil {
			return nil, err
		}
	}
	var extra []string
	for name := range where {
		if !planned[name] && !strings.HasSuffix(name, ".rotary_emb.inv_freq") && !(name == "lm_head.weight" && c.SharedClassifier) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		more := ""
		if len(extra) > 3 {
			more, extra = fmt.Sprintf(" and %d more", len(extra)-3), extra[:3]
		}
		return nil, fmt.Errorf("%w: unexpected tensors %s%s: config.json (with its ppf_layers, if any) does not account for them",
			ErrBadModel, strings.Join(extra, ", "), more)
	}

	for _, t := range plan {
		f, ok := where[t.name]
		if !ok {
			continue
		}
		w := make([]float32, t.numElements())
		if err := f.readInto(t.name, w); err != nil {
			return nil, err
		}
		if t.heads > 0 {
			permuteHeadRows(w, t.heads, c.HeadDim, c.Dim, false)
		}
		*t.dst = w
	}
	if c.SharedClassifier {
		m.Output = m.Embedding
	}
	return m, m.Validate()
}

// Limits on config.json sizes. They are far above any real model; the
// check of the config against the safetensors files does the rest.
const (
	maxHFHidden       = 1 << 20
	maxHFIntermediate = 1 << 24
	maxHFLayers       = 1 << 20
	maxHFHeads        = 1 << 16
	maxHFVocab        = 1 << 24
)

// toConfig checks a parsed config.json and returns the Config and the
// sizes of each layer.
func (hc *hfConfig) toConfig() (Config, []hfLayerSizes, error) {
	var c Config
	switch {
	case hc.ModelType == "" && len(hc.Architectures) == 0:
		return c, nil, fmt.Errorf("%w: neither model_type nor architectures is set; is this a Hugging Face model config?", ErrBadModel)
	case hc.ModelType != "" && hc.ModelType != "llama":
		return c, nil, fmt.Errorf("%w: model_type %q; only \"llama\" models (Llama 2, Llama 3 and their relatives) are supported", ErrUnsupportedModel, hc.ModelType)
	case len(hc.Architectures) > 0 && !slices.Contains(hc.Architectures, "LlamaForCausalLM"):
		return c, nil, fmt.Errorf("%w: architectures %v; only LlamaForCausalLM is supported", ErrUnsupportedModel, hc.Architectures)
	case hc.AttentionBias || hc.MLPBias:
		return c, nil, fmt.Errorf("%w: attention_bias/mlp_bias is true; Llama models with q/k/v/o or MLP biases are not supported", ErrUnsupportedModel)
	case hc.HiddenAct != "" && hc.HiddenAct != "silu":
		return c, nil, fmt.Errorf("%w: hidden_act %q; only silu (SwiGLU) is supported", ErrUnsupportedModel, hc.HiddenAct)
	}
	for _, f := range []struct {
		name     string
		v, limit int
	}{
		{"hidden_size", hc.HiddenSize, maxHFHidden}, {"intermediate_size", hc.IntermediateSize, maxHFIntermediate},
		{"num_hidden_layers", hc.NumHiddenLayers, maxHFLayers},
		{"num_attention_heads", hc.NumAttentionHeads, maxHFHeads}, {"vocab_size", hc.VocabSize, maxHFVocab},
	} {
		if f.v <= 0 || f.v > f.limit {
			return c, nil, fmt.Errorf("%w: %s is %d; it must be set to a positive size, at most the limit %d (is config.json damaged?)", ErrBadModel, f.name, f.v, f.limit)
		}
	}
	if hc.HeadDim == 0 && hc.HiddenSize%hc.NumAttentionHeads != 0 {
		return c, nil, fmt.Errorf("%w: hidden_size %d is not a multiple of num_attention_heads %d, and head_dim is not set", ErrBadModel, hc.HiddenSize, hc.NumAttentionHeads)
	}
	c = Config{
		Dim: hc.HiddenSize, HiddenDim: hc.IntermediateSize, NumLayers: hc.NumHiddenLayers,
		NumHeads: hc.NumAttentionHeads, NumKVHeads: hc.NumKeyValueHeads, HeadDim: hc.HeadDim,
		VocabSize: hc.VocabSize, SeqLen: hc.MaxPositionEmbeddings, RopeTheta: hc.RopeTheta, NormEps: 1e-6,
	}
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if c.HeadDim == 0 {
		c.HeadDim = c.Dim / c.NumHeads
	}
	if c.SeqLen == 0 {
		c.SeqLen = 2048
	}
	if hc.RMSNormEps != "" {
		eps, err := strconv.ParseFloat(string(hc.RMSNormEps), 32)
		if err != nil || eps <= 0 {
			return c, nil, fmt.Errorf("%w: rms_norm_eps %s must be a positive number", ErrBadModel, hc.RMSNormEps)
		}
		c.NormEps = float32(eps)
	}
	if c.NumKVHeads < 0 || c.NumHeads%c.NumKVHeads != 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0 || c.HeadDim > 1<<16 || c.SeqLen < 0 || c.SeqLen > 1<<24 {
		return c, nil, fmt.Errorf("%w: %d heads, %d key/value heads, head_dim %d, max_position_embeddings %d do not fit (heads must split into key/value groups, head_dim must be even)",
			ErrBadModel, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SeqLen)
	}

	// RoPE: rope_scaling, or transformers v5's rope_parameters.
	rope := hc.RopeScaling
	if p := hc.RopeParameters; p != nil {
		if p.RopeTheta != 0 && c.RopeTheta == 0 {
			c.RopeTheta = p.RopeTheta
		}
		if rope == nil {
			rope = p
		}
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.RopeTheta < 0 {
		return c, nil, fmt.Errorf("%w: rope_theta %v must be positive", ErrBadModel, c.RopeTheta)
	}
	if rope != nil {
		kind := rope.RopeType
		if kind == "" {
			kind = rope.Type
		}
		switch kind {
		case "", "default":
		case "llama3":
			if rope.Factor <= 0 || rope.LowFreqFactor <= 0 || rope.HighFreqFactor <= rope.LowFreqFactor || rope.OriginalContext <= 0 {
				return c, nil, fmt.Errorf("%w: llama3 rope_scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0; got factor %v, low_freq_factor %v, high_freq_factor %v, original_max_position_embeddings %d",
					ErrBadModel, rope.Factor, rope.LowFreqFactor, rope.HighFreqFactor, rope.OriginalContext)
			}
			c.RopeScaling = &RopeScaling{Factor: rope.Factor, LowFreqFactor: rope.LowFreqFactor,
				HighFreqFactor: rope.HighFreqFactor, OriginalContext: rope.OriginalContext}
		default:
			return c, nil, fmt.Errorf("%w: rope scaling type %q; only Llama 3.1's \"llama3\" scaling is supported", ErrUnsupportedModel, kind)
		}
	}

	sizes := hc.PPFLayers
	if sizes == nil {
		sizes = make([]hfLayerSizes, c.NumLayers)
		for i := range sizes {
			sizes[i] = hfLayerSizes{c.NumHeads, c.NumKVHeads, c.HiddenDim}
		}
	}
	if len(sizes) != c.NumLayers {
		return c, nil, fmt.Errorf("%w: ppf_layers has %d entries for %d layers", ErrBadModel, len(sizes), c.NumLayers)
	}
	for i, s := range sizes {
		h, kv := s.NumAttentionHeads, s.NumKeyValueHeads
		if h < 0 || kv < 0 || s.IntermediateSize < 0 || s.IntermediateSize > 1<<24 || h > 1<<16 ||
			(h == 0) != (kv == 0) || (kv > 0 && h%kv != 0) {
			return c, nil, fmt.Errorf("%w: ppf_layers[%d] has %d heads, %d key/value heads, intermediate_size %d; sizes must be non-negative and heads a multiple of key/value heads (both 0 when attention is removed)",
				ErrBadModel, i, h, kv, s.IntermediateSize)
		}
	}
	return c, sizes, nil
}

// checkHFBudget compares what config c with per-layer sizes describes with
// the safetensors files, without overflow and before anything is sized by
// the config: the files must hold at least as many tensors as the config
// requires, and at least as many data bytes as those tensors take in the
// smallest readable dtype (2 bytes for F16 and BF16). This keeps a config
// with absurd sizes next to small files from allocating anything.
func checkHFBudget(c Config, sizes []hfLayerSizes, files []*stFile, tensors int) error {
	D, V, hd := int64(c.Dim), int64(c.VocabSize), int64(c.HeadDim)
	var need byteCount
	need.add(2, V, D)
	need.add(2, D)
	if !c.SharedClassifier {
		need.add(2, V, D)
	}
	for _, s := range sizes {
		need.add(2, 2, D)
		if s.NumAttentionHeads > 0 {
			need.add(2, 2, int64(s.NumAttentionHeads), hd, D) // q, o
			need.add(2, 2, int64(s.NumKeyValueHeads), hd, D)  // k, v
		}
		if s.IntermediateSize > 0 {
			need.add(2, 3, int64(s.IntermediateSize), D)
		}
	}
	var have int64
	names := make([]string, 0, len(files))
	for _, f := range files {
		have += f.dataBytes()
		names = append(names, filepath.Base(f.path))
	}
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("%d more", len(names)-3))
	}
	what := fmt.Sprintf("config.json describes %d layers (hidden_size %d, vocab_size %d, head_dim %d)", c.NumLayers, c.Dim, c.VocabSize, c.HeadDim)
	if n, ok := need.value(); !ok || n > have {
		needs := fmt.Sprintf("at least %d bytes", n)
		if !ok {
			needs = "more bytes than a file can hold"
		}
		return fmt.Errorf("%w: %s, whose weights take %s, but %s hold %d bytes of tensor data; the config does not belong with these weights, or the weights are truncated",
			ErrBadModel, what, needs, strings.Join(names, ", "), have)
	}
	// Every layer stores its two norms, whatever it prunes; a missing
	// tensor beyond those is reported by name when the plan is checked.
	if minimum := 2 + 2*len(sizes); minimum > tensors {
		return fmt.Errorf("%w: %s, which need at least %d tensors, but %s hold %d; the config does not belong with these weights, or the weights are incomplete",
			ErrBadModel, what, minimum, strings.Join(names, ", "), tensors)
	}
	return nil
}

// openHFWeights opens the safetensors files of dir and says which holds
// each tensor: the files of model.safetensors.index.json's weight_map when
// the index exists, else every model*.safetensors. The files are returned
// even with an error, for the caller to close.
func openHFWeights(dir string) ([]*stFile, map[string]*stFile, error) {
	var files []*stFile
	where := map[string]*stFile{}
	open := func(name string) (*stFile, error) {
		f, err := openSafetensors(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return f, nil
	}

	idx, err := os.ReadFile(filepath.Join(dir, "model.safetensors.index.json"))
	if err == nil {
		var index struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(idx, &index); err != nil || len(index.WeightMap) == 0 {
			return files, nil, fmt.Errorf("%w: model.safetensors.index.json has no valid weight_map (%v)", ErrBadModel, err)
		}
		byName := map[string]*stFile{}
		for tensor, file := range index.WeightMap {
			if file != filepath.Base(file) || !strings.HasSuffix(file, ".safetensors") {
				return files, nil, fmt.Errorf("%w: model.safetensors.index.json maps %s to %q, not a .safetensors file in the folder", ErrBadModel, tensor, file)
			}
			f := byName[file]
			if f == nil {
				if f, err = open(file); err != nil {
					return files, nil, err
				}
				byName[file] = f
			}
			if _, ok := f.tensors[tensor]; !ok {
				return files, nil, fmt.Errorf("%w: model.safetensors.index.json puts %s in %s, which does not hold it", ErrBadModel, tensor, file)
			}
			where[tensor] = f
		}
		return files, where, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return files, nil, err
	}

	names, _ := filepath.Glob(filepath.Join(dir, "model*.safetensors"))
	if len(names) == 0 {
		hint := ""
		if bins, _ := filepath.Glob(filepath.Join(dir, "*.bin")); len(bins) > 0 {
			hint = "; PyTorch .bin weights are not supported, convert them to safetensors"
		}
		return files, nil, fmt.Errorf("%w: no model.safetensors or model-*.safetensors in the folder%s", ErrBadModel, hint)
	}
	sort.Strings(names)
	for _, path := range names {
		f, err := open(filepath.Base(path))
		if err != nil {
			return files, nil, err
		}
		for tensor := range f.tensors {
			if g, dup := where[tensor]; dup {
				return files, nil, fmt.Errorf("%w: tensor %s is in both %s and %s; remove the stale file or add model.safetensors.index.json",
					ErrBadModel, tensor, filepath.Base(g.path), filepath.Base(f.path))
			}
			where[tensor] = f
		}
	}
	return files, where, nil
}

// hfTensor ties a checkpoint tensor to the Model field holding it.
type hfTensor struct {
	name     string
	shape    []int
	dst      *[]float32
	layer    int  // -1 outside the layers
	heads    int  // > 0: rows are this many RoPE heads, permuted between layouts
	optional bool // may be absent (the compensation biases)
}

func (t *hfTensor) numElements() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// hfPlan lists the tensors of m in the checkpoint, from the config and
// each layer's sizes; lm_head only when the classifier is not shared.
func hfPlan(m *Model) []hfTensor {
	c := m.Config
	D := c.Dim
	plan := []hfTensor{{name: "model.embed_tokens.weight", shape: []int{c.VocabSize, D}, dst: &m.Embedding, layer: -1}}
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		add := func(name string, shape []int, dst *[]float32, heads int, optional bool) {
			plan = append(plan, hfTensor{p + name, shape, dst, i, heads, optional})
		}
		q, kv, h := l.NumHeads*c.HeadDim, l.NumKVHeads*c.HeadDim, l.HiddenDim
		add("input_layernorm.weight", []int{D}, &l.AttnNorm, 0, false)
		if l.NumHeads > 0 {
			add("self_attn.q_proj.weight", []int{q, D}, &l.Wq, l.NumHeads, false)
			add("self_attn.k_proj.weight", []int{kv, D}, &l.Wk, l.NumKVHeads, false)
			add("self_attn.v_proj.weight", []int{kv, D}, &l.Wv, 0, false)
			add("self_attn.o_proj.weight", []int{D, q}, &l.Wo, 0, false)
		}
		add("self_attn.o_proj.bias", []int{D}, &l.AttnBias, 0, true)
		add("post_attention_layernorm.weight", []int{D}, &l.MLPNorm, 0, false)
		if h > 0 {
			add("mlp.gate_proj.weight", []int{h, D}, &l.Gate, 0, false)
			add("mlp.up_proj.weight", []int{h, D}, &l.Up, 0, false)
			add("mlp.down_proj.weight", []int{D, h}, &l.Down, 0, false)
		}
		add("mlp.down_proj.bias", []int{D}, &l.MLPBias, 0, true)
	}
	plan = append(plan, hfTensor{name: "model.norm.weight", shape: []int{D}, dst: &m.FinalNorm, layer: -1})
	if !c.SharedClassifier {
		plan = append(plan, hfTensor{name: "lm_head.weight", shape: []int{c.VocabSize, D}, dst: &m.Output, layer: -1})
	}
	return plan
}

// describeLayer explains where the expected shape of t comes from.
func describeLayer(m *Model, t hfTensor, fromPPF bool) string {
	c := m.Config
	if t.layer < 0 {
		return fmt.Sprintf("config.json has hidden_size %d, vocab_size %d", c.Dim, c.VocabSize)
	}
	l := m.Layers[t.layer]
	src := "config.json"
	if fromPPF {
		src = fmt.Sprintf("ppf_layers[%d]", t.layer)
	}
	return fmt.Sprintf("%s gives layer %d %d heads, %d key/value heads, head_dim %d, intermediate_size %d",
		src, t.layer, l.NumHeads, l.NumKVHeads, c.HeadDim, l.HiddenDim)
}

// permuteHeadRows reorders in place the rows (of width cols) of each of
// heads consecutive blocks of headDim rows. toHF moves row 2i+j of a head
// (llama2.c's interleaved pair i, member j) to row j*headDim/2+i (HF's
// rotate-half layout), as convert_llama_weights_to_hf.py's permute does;
// !toHF is the inverse.
func permuteHeadRows(w []float32, heads, headDim, cols int, toHF bool) {
	half, block := headDim/2, headDim*cols
	if len(w) != heads*block {
		panic(fmt.Sprintf("native: permuteHeadRows: %d values for %d heads of %d rows of %d", len(w), heads, headDim, cols))
	}
	tmp := make([]float32, block)
	for h := 0; h < heads; h++ {
		head := w[h*block : (h+1)*block]
		copy(tmp, head)
		for i := 0; i < half; i++ {
			for j := 0; j < 2; j++ {
				meta, hf := 2*i+j, j*half+i
				if toHF {
					copy(head[hf*cols:(hf+1)*cols], tmp[meta*cols:(meta+1)*cols])
				} else {
					copy(head[meta*cols:(meta+1)*cols], tmp[hf*cols:(hf+1)*cols])
				}
			}
		}
	}
}

// SaveHF writes m to dir (created if needed) as a Hugging Face Llama
// checkpoint: config.json and a float32 model.safetensors, with q_proj and
// k_proj permuted to HF's layout. A pruned model gets the ppf_layers
// extension and its compensation biases (see the top of hf.go). An
// existing config.json and model.safetensors are replaced; a folder that
// holds a sharded checkpoint is refused, since its index would shadow the
// new file.
func SaveHF(m *Model, dir string) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shards, _ := filepath.Glob(filepath.Join(dir, "model-*-of-*.safetensors"))
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors.index.json")); err == nil || len(shards) > 0 {
		return fmt.Errorf("save %s: the folder holds a sharded checkpoint; save into an empty folder", dir)
	}
	c := m.Config
	hc := hfConfig{
		Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
		HiddenSize: c.Dim, IntermediateSize: c.HiddenDim, NumHiddenLayers: c.NumLayers,
		NumAttentionHeads: c.NumHeads, NumKeyValueHeads: c.NumKVHeads, HeadDim: c.HeadDim,
		VocabSize: c.VocabSize, MaxPositionEmbeddings: c.SeqLen,
		RMSNormEps:        json.Number(strconv.FormatFloat(float64(c.NormEps), 'g', -1, 32)),
		RopeTheta:         c.RopeTheta,
		TieWordEmbeddings: c.SharedClassifier, HiddenAct: "silu", TorchDtype: "float32",
		BOSTokenID: json.RawMessage("1"), EOSTokenID: json.RawMessage("2"),
	}
	if rs := c.RopeScaling; rs != nil {
		hc.RopeScaling = &hfRope{RopeType: "llama3", Factor: rs.Factor, LowFreqFactor: rs.LowFreqFactor,
			HighFreqFactor: rs.HighFreqFactor, OriginalContext: rs.OriginalContext}
	}
	for _, l := range m.Layers {
		if l.NumHeads != c.NumHeads || l.NumKVHeads != c.NumKVHeads || l.HiddenDim != c.HiddenDim {
			hc.PPFLayers = make([]hfLayerSizes, len(m.Layers))
			for i, l := range m.Layers {
				hc.PPFLayers[i] = hfLayerSizes{l.NumHeads, l.NumKVHeads, l.HiddenDim}
			}
			break
		}
	}

	var tensors []stOutTensor
	for _, t := range hfPlan(m) {
		w := *t.dst
		if w == nil && t.optional {
			continue
		}
		data := func() []float32 { return w }
		if t.heads > 0 {
			heads := t.heads
			data = func() []float32 {
				p := slices.Clone(w)
				permuteHeadRows(p, heads, c.HeadDim, c.Dim, true)
				return p
			}
		}
		tensors = append(tensors, stOutTensor{Name: t.name, Shape: t.shape, Data: data})
	}
	if err := writeSafetensors(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}, "F32"); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(hc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return nil
}
