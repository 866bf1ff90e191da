package native

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// gqaConfig is a small grouped-query model: 8 query heads share 2
// key/value heads.
var gqaConfig = Config{Dim: 64, HiddenDim: 96, NumLayers: 3, NumHeads: 8, NumKVHeads: 2, VocabSize: 50, SeqLen: 64}

// forwardLogits runs n fixed tokens through m and returns a copy of the logits.
func forwardLogits(t *testing.T, m *Model, n int) []float32 {
	t.Helper()
	tokens := make([]int, n)
	for i := range tokens {
		tokens[i] = (1 + 7*i) % m.VocabSize
	}
	logits, err := NewState(m, 32, 0).Forward(context.Background(), tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(logits)
}

// requireSameModel fails unless a and b have equal configs and weights.
func requireSameModel(t *testing.T, a, b *Model) {
	t.Helper()
	if !reflect.DeepEqual(a.Config, b.Config) {
		t.Fatalf("config changed:\n got %+v\nwant %+v", b.Config, a.Config)
	}
	if !reflect.DeepEqual(a.Layers, b.Layers) || !slices.Equal(a.Embedding, b.Embedding) ||
		!slices.Equal(a.FinalNorm, b.FinalNorm) || !slices.Equal(a.Output, b.Output) {
		t.Fatal("weights changed")
	}
	if b.SharedClassifier && &b.Output[0] != &b.Embedding[0] {
		t.Fatal("shared classifier loaded as a copy of the embedding")
	}
}

// roundTripHF saves m, loads it back, and checks that model and logits
// are unchanged. It returns the folder.
func roundTripHF(t *testing.T, m *Model) string {
	t.Helper()
	dir := t.TempDir()
	if err := SaveHF(m, dir); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	requireSameModel(t, m, m2)
	if d := maxAbsDiff(forwardLogits(t, m, 20), forwardLogits(t, m2, 20)); d >= 1e-5 || math.IsNaN(d) {
		t.Fatalf("logits differ by %g after a round trip", d)
	} else if d != 0 {
		t.Logf("logits differ by %g", d)
	}
	return dir
}

func TestHFRoundTripStories260K(t *testing.T) {
	m, err := LoadLlama2C(filepath.Join(ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := roundTripHF(t, m)
	s, err := openSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.tensors["lm_head.weight"]; ok {
		t.Error("shared classifier written as lm_head.weight")
	}
	if got := s.tensors["model.layers.4.self_attn.k_proj.weight"]; got.Dtype != "F32" || !slices.Equal(got.Shape, []int{32, 64}) {
		t.Errorf("k_proj stored as %+v, want F32 [32 64]", got)
	}
}

func TestHFRoundTripGQA(t *testing.T) {
	roundTripHF(t, RandomModel(gqaConfig, 1))
}

func TestHFRoundTripLlama3Rope(t *testing.T) {
	c := gqaConfig
	c.RopeTheta, c.SharedClassifier = 500000, true
	c.RopeScaling = &RopeScaling{Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192}
	dir := roundTripHF(t, RandomModel(c, 2))
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0}
	if !reflect.DeepEqual(cfg["rope_scaling"], want) || cfg["rope_theta"] != 500000.0 || cfg["tie_word_embeddings"] != true ||
		cfg["model_type"] != "llama" || cfg["rms_norm_eps"] != 1e-5 || cfg["num_key_value_heads"] != 2.0 {
		t.Errorf("config.json = %s", b)
	}
}

// prunedModel slices a random 4-layer GQA model by hand: layer 0 keeps the
// second key/value group (query heads 4-7, key/value head 1), layer 1 keeps
// 40 MLP channels, layer 2 gains compensation biases, layer 3 loses
// attention and MLP.
func prunedModel() *Model {
	c := gqaConfig
	c.NumLayers = 4
	m := RandomModel(c, 3)
	hd, D := m.HeadDim, m.Dim
	rows := func(w []float32, cols int, keep []int) []float32 {
		var out []float32
		for _, r := range keep {
			out = append(out, w[r*cols:(r+1)*cols]...)
		}
		return out
	}
	colsOf := func(w []float32, cols int, keep []int) []float32 {
		var out []float32
		for r := 0; r < len(w)/cols; r++ {
			for _, k := range keep {
				out = append(out, w[r*cols+k])
			}
		}
		return out
	}
	span := func(lo, hi int) []int {
		var s []int
		for i := lo; i < hi; i++ {
			s = append(s, i)
		}
		return s
	}

	l := &m.Layers[0]
	q, kv := span(4*hd, 8*hd), span(1*hd, 2*hd)
	l.NumHeads, l.NumKVHeads = 4, 1
	l.Wq, l.Wk, l.Wv, l.Wo = rows(l.Wq, D, q), rows(l.Wk, D, kv), rows(l.Wv, D, kv), colsOf(l.Wo, 8*hd, q)

	l = &m.Layers[1]
	var ch []int
	for i := 0; i < 96 && len(ch) < 40; i += 2 {
		ch = append(ch, i+i/16%2)
	}
	l.HiddenDim = 40
	l.Gate, l.Up, l.Down = rows(l.Gate, D, ch), rows(l.Up, D, ch), colsOf(l.Down, 96, ch)

	l = &m.Layers[2]
	l.AttnBias, l.MLPBias = make([]float32, D), make([]float32, D)
	for i := range D {
		l.AttnBias[i], l.MLPBias[i] = float32(i%7)/10-0.3, float32(i%5)/10-0.2
	}

	l = &m.Layers[3]
	l.NumHeads, l.NumKVHeads, l.HiddenDim = 0, 0, 0
	l.Wq, l.Wk, l.Wv, l.Wo, l.Gate, l.Up, l.Down = nil, nil, nil, nil, nil, nil, nil
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return m
}

func TestHFRoundTripPruned(t *testing.T) {
	m := prunedModel()
	dir := roundTripHF(t, m)
	var cfg struct {
		PPFLayers []hfLayerSizes `json:"ppf_layers"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	json.Unmarshal(b, &cfg)
	want := []hfLayerSizes{{4, 1, 96}, {8, 2, 40}, {8, 2, 96}, {0, 0, 0}}
	if !reflect.DeepEqual(cfg.PPFLayers, want) {
		t.Errorf("ppf_layers = %+v, want %+v", cfg.PPFLayers, want)
	}
	s, err := openSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, shape := range map[string][]int{
		"model.layers.0.self_attn.q_proj.weight": {32, 64}, "model.layers.0.self_attn.o_proj.weight": {64, 32},
		"model.layers.1.mlp.down_proj.weight": {64, 40}, "model.layers.2.self_attn.o_proj.bias": {64},
		"model.layers.2.mlp.down_proj.bias": {64}, "model.layers.3.input_layernorm.weight": {64},
		"model.layers.3.self_attn.q_proj.weight": nil, "model.layers.3.mlp.up_proj.weight": nil, "model.layers.1.mlp.down_proj.bias": nil,
	} {
		if got := s.tensors[name].Shape; !slices.Equal(got, shape) {
			t.Errorf("%s has shape %v, want %v", name, got, shape)
		}
	}
	// A uniform model has no ppf_layers.
	if b, _ := os.ReadFile(filepath.Join(roundTripHF(t, RandomModel(gqaConfig, 4)), "config.json")); strings.Contains(string(b), "ppf_layers") {
		t.Error("uniform model written with ppf_layers")
	}
}

// TestHFPermutationConvention pins the row order of one head against
// convert_llama_weights_to_hf.py's permute, worked by hand: with head_dim 4
// the pairs (r0, r1), (r2, r3) become halves (r0, r2 | r1, r3).
func TestHFPermutationConvention(t *testing.T) {
	for _, tc := range []struct {
		heads, headDim, cols int
		meta, hf             []float32
	}{
		{1, 4, 1, []float32{0, 1, 2, 3}, []float32{0, 2, 1, 3}},
		{1, 8, 1, []float32{0, 1, 2, 3, 4, 5, 6, 7}, []float32{0, 2, 4, 6, 1, 3, 5, 7}},
		{2, 4, 2, []float32{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5},
			[]float32{0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5, 4, 4.5, 6, 6.5, 5, 5.5, 7, 7.5}},
	} {
		w := slices.Clone(tc.meta)
		permuteHeadRows(w, tc.heads, tc.headDim, tc.cols, true)
		if !slices.Equal(w, tc.hf) {
			t.Errorf("to HF: %v -> %v, want %v", tc.meta, w, tc.hf)
		}
		permuteHeadRows(w, tc.heads, tc.headDim, tc.cols, false)
		if !slices.Equal(w, tc.meta) {
			t.Errorf("from HF did not invert: got %v, want %v", w, tc.meta)
		}
	}
	// The inverse on a larger random matrix.
	w := RandomModel(Config{Dim: 5, HiddenDim: 1, NumLayers: 1, NumHeads: 1, HeadDim: 18, VocabSize: 1, SeqLen: 1}, 9).Layers[0].Wq
	orig := slices.Clone(w)
	permuteHeadRows(w, 3, 6, 5, true)
	if slices.Equal(w, orig) {
		t.Fatal("permutation changed nothing")
	}
	permuteHeadRows(w, 3, 6, 5, false)
	if !slices.Equal(w, orig) {
		t.Error("from HF is not the inverse of to HF")
	}
}

// TestHFPermutationMatchesRotateHalf checks the reason for the permutation:
// transformers' rotate-half RoPE on HF-ordered rows gives the HF-ordered
// result of this engine's interleaved RoPE.
func TestHFPermutationMatchesRotateHalf(t *testing.T) {
	const heads, hd = 2, 8
	c := Config{HeadDim: hd, SeqLen: 6, RopeTheta: 10000}
	cos, sin := ropeTables(c, c.SeqLen)
	p := 5
	cos, sin = cos[p*hd/2:(p+1)*hd/2], sin[p*hd/2:(p+1)*hd/2]
	q := make([]float32, heads*hd)
	for i := range q {
		q[i] = float32(i%5) - 1.5 + float32(i)/10
	}
	want := slices.Clone(q)
	rope(want, cos, sin, hd)
	permuteHeadRows(want, heads, hd, 1, true)

	got := slices.Clone(q)
	permuteHeadRows(got, heads, hd, 1, true)
	for h := 0; h < heads; h++ {
		x := got[h*hd : (h+1)*hd]
		for i := 0; i < hd/2; i++ { // q·cos + rotate_half(q)·sin
			x1, x2 := x[i], x[i+hd/2]
			x[i], x[i+hd/2] = x1*cos[i]-x2*sin[i], x2*cos[i]+x1*sin[i]
		}
	}
	if d := maxAbsDiff(got, want); d > 1e-6 {
		t.Errorf("rotate-half on permuted rows differs by %g from permuted interleaved RoPE:\n got %v\nwant %v", d, got, want)
	}
}

// readAllF32 returns every tensor of a safetensors file as float32.
func readAllF32(t *testing.T, path string) map[string]rawTensor {
	t.Helper()
	s, err := openSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]rawTensor{}
	for name, info := range s.tensors {
		v := readTensor(t, s, name)
		b := make([]byte, 0, 4*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		out[name] = rawTensor{name, "F32", info.Shape, b}
	}
	return out
}

func writeAll(t *testing.T, path string, tensors map[string]rawTensor) {
	t.Helper()
	var list []rawTensor
	for _, r := range tensors {
		list = append(list, r)
	}
	writeRawSafetensors(t, path, list)
}

func TestLoadHFShardedAndBF16(t *testing.T) {
	m := RandomModel(gqaConfig, 5)
	dir := t.TempDir()
	if err := SaveHF(m, dir); err != nil {
		t.Fatal(err)
	}
	all := readAllF32(t, filepath.Join(dir, "model.safetensors"))
	os.Remove(filepath.Join(dir, "model.safetensors"))
	shards := [2]map[string]rawTensor{{}, {}}
	index := map[string]string{}
	for name, r := range all {
		i := 0
		if strings.HasPrefix(name, "model.layers.2") || strings.HasPrefix(name, "lm_head") {
			i = 1
		}
		shards[i][name] = r
		index[name] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
	}
	writeAll(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), shards[0])
	writeAll(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), shards[1])
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": index})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), b, 0o644)
	for _, withIndex := range []bool{true, false} {
		if !withIndex {
			os.Remove(filepath.Join(dir, "model.safetensors.index.json"))
		}
		m2, err := LoadHF(dir)
		if err != nil {
			t.Fatalf("index %v: %v", withIndex, err)
		}
		requireSameModel(t, m, m2)
	}

	// BF16 weights load as their bfloat16 values (q and k are written
	// unpermuted here; only the norms are compared).
	bdir := t.TempDir()
	os.Rename(filepath.Join(dir, "config.json"), filepath.Join(bdir, "config.json"))
	var out []stOutTensor
	for _, t := range hfPlan(m) {
		if w := *t.dst; w != nil {
			out = append(out, stOutTensor{t.name, t.shape, func() []float32 { return w }})
		}
	}
	if err := writeSafetensors(filepath.Join(bdir, "model.safetensors"), out, nil, "BF16"); err != nil {
		t.Fatal(err)
	}
	m3, err := LoadHF(bdir)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.FinalNorm {
		if want := bf16ToFloat32(float32ToBF16(v)); m3.FinalNorm[i] != want || math.Abs(float64(want-v)) > 0.01 {
			t.Fatalf("bf16 final norm[%d] = %g, want %g (from %g)", i, m3.FinalNorm[i], want, v)
		}
	}
}

func TestLoadHFBadInput(t *testing.T) {
	base := t.TempDir()
	if err := SaveHF(RandomModel(gqaConfig, 6), base); err != nil {
		t.Fatal(err)
	}
	tensors := readAllF32(t, filepath.Join(base, "model.safetensors"))
	editConfig := func(edit func(map[string]any)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			var cfg map[string]any
			b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			edit(cfg)
			b, _ = json.Marshal(cfg)
			os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
		}
	}
	editTensors := func(edit func(map[string]rawTensor)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			m := map[string]rawTensor{}
			for k, v := range tensors {
				m[k] = v
			}
			edit(m)
			writeAll(t, filepath.Join(dir, "model.safetensors"), m)
		}
	}
	const q0 = "model.layers.0.self_attn.q_proj.weight"
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    error
		substr  []string
	}{
		{"no config", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "config.json")) },
			ErrBadModel, []string{"config.json"}},
		{"malformed config", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"hidden_size": 64,`), 0o644)
		},
			ErrBadModel, []string{"config.json is not a valid"}},
		{"wrong type in config", editConfig(func(c map[string]any) { c["num_hidden_layers"] = "three" }),
			ErrBadModel, []string{"config.json", "num_hidden_layers"}},
		{"missing size", editConfig(func(c map[string]any) { delete(c, "vocab_size") }),
			ErrBadModel, []string{"vocab_size is 0"}},
		{"no model type", editConfig(func(c map[string]any) { delete(c, "model_type"); delete(c, "architectures") }),
			ErrBadModel, []string{"neither model_type nor architectures"}},
		{"not llama", editConfig(func(c map[string]any) { c["model_type"] = "mistral" }),
			ErrUnsupportedModel, []string{`model_type "mistral"`}},
		{"classifier head", editConfig(func(c map[string]any) { c["architectures"] = []string{"LlamaForSequenceClassification"} }),
			ErrUnsupportedModel, []string{"LlamaForSequenceClassification"}},
		{"yarn scaling", editConfig(func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} }),
			ErrUnsupportedModel, []string{`rope scaling type "yarn"`}},
		{"old-style linear scaling", editConfig(func(c map[string]any) { c["rope_scaling"] = map[string]any{"type": "linear", "factor": 2} }),
			ErrUnsupportedModel, []string{`"linear"`}},
		{"bad llama3 scaling", editConfig(func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 4, "original_max_position_embeddings": 8192}
		}), ErrBadModel, []string{"low_freq_factor < high_freq_factor"}},
		{"attention bias", editConfig(func(c map[string]any) { c["attention_bias"] = true }),
			ErrUnsupportedModel, []string{"attention_bias"}},
		{"gelu", editConfig(func(c map[string]any) { c["hidden_act"] = "gelu" }),
			ErrUnsupportedModel, []string{"gelu"}},
		{"heads and kv heads", editConfig(func(c map[string]any) { c["num_key_value_heads"] = 3 }),
			ErrBadModel, []string{"3 key/value heads"}},
		{"ppf_layers shape", editConfig(func(c map[string]any) {
			c["ppf_layers"] = []hfLayerSizes{{4, 1, 96}, {8, 2, 96}, {8, 2, 96}}
		}), ErrBadModel, []string{q0, "shape [64 64], want [32 64]", "ppf_layers[0] gives layer 0 4 heads"}},
		{"ppf_layers drops attention", editConfig(func(c map[string]any) {
			c["ppf_layers"] = []hfLayerSizes{{8, 2, 96}, {8, 2, 96}, {0, 0, 96}}
		}), ErrBadModel, []string{"unexpected tensors model.layers.2.self_attn.k_proj.weight", "and 1 more", "ppf_layers"}},
		{"ppf_layers count", editConfig(func(c map[string]any) { c["ppf_layers"] = []hfLayerSizes{{8, 2, 96}} }),
			ErrBadModel, []string{"ppf_layers has 1 entries for 3 layers"}},
		{"ppf_layers heads", editConfig(func(c map[string]any) { c["ppf_layers"] = []hfLayerSizes{{8, 2, 96}, {3, 2, 96}, {8, 2, 96}} }),
			ErrBadModel, []string{"ppf_layers[1] has 3 heads, 2 key/value heads"}},
		{"missing tensor", editTensors(func(m map[string]rawTensor) { delete(m, "model.layers.1.mlp.up_proj.weight") }),
			ErrBadModel, []string{"model.layers.1.mlp.up_proj.weight is missing", "want shape [96 64]"}},
		{"wrong shape", editTensors(func(m map[string]rawTensor) { r := m[q0]; r.shape = []int{32, 128}; m[q0] = r }),
			ErrBadModel, []string{q0, "shape [32 128], want [64 64]"}},
		{"unexpected tensor", editTensors(func(m map[string]rawTensor) {
			m["model.layers.0.self_attn.q_proj.bias"] = rawTensor{"model.layers.0.self_attn.q_proj.bias", "F32", []int{1}, make([]byte, 4)}
		}), ErrBadModel, []string{"unexpected tensors model.layers.0.self_attn.q_proj.bias"}},
		{"unsupported dtype", editTensors(func(m map[string]rawTensor) {
			m["model.norm.weight"] = rawTensor{"model.norm.weight", "I8", []int{64}, make([]byte, 64)}
		}), ErrUnsupportedModel, []string{`"model.norm.weight" has dtype I8`}},
		{"truncated weights", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-100], 0o644)
		}, ErrBadModel, []string{"model.safetensors", "outside the"}},
		{"no weights", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) },
			ErrBadModel, []string{"no model.safetensors"}},
		{"bad index", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map": {"lm_head.weight": "../x.safetensors"}}`), 0o644)
		}, ErrBadModel, []string{"not a .safetensors file in the folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"config.json", "model.safetensors"} {
				b, _ := os.ReadFile(filepath.Join(base, f))
				os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
			tc.corrupt(t, dir)
			_, err := LoadHF(dir)
			t.Log(err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for _, s := range tc.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// TestHFConfigDefaults reads a Llama 3 style config.json: eos_token_id a
// list, head_dim and num_key_value_heads present, old-style "type" key,
// and defaults for what is absent.
func TestHFConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		json string
		want Config
	}{
		{`{"model_type":"llama","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
		   "num_key_value_heads":8,"vocab_size":128256,"max_position_embeddings":131072,"rms_norm_eps":1e-05,"rope_theta":500000.0,
		   "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"type":"llama3"},
		   "eos_token_id":[128001,128008,128009],"head_dim":128,"pretraining_tp":1}`,
			Config{Dim: 4096, HiddenDim: 14336, NumLayers: 32, NumHeads: 32, NumKVHeads: 8, HeadDim: 128, VocabSize: 128256, SeqLen: 131072,
				RopeTheta: 500000, NormEps: 1e-5, RopeScaling: &RopeScaling{8, 1, 4, 8192}}},
		{`{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,
		   "vocab_size":10,"rope_scaling":null,"head_dim":null}`,
			Config{Dim: 64, HiddenDim: 96, NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, VocabSize: 10, SeqLen: 2048,
				RopeTheta: 10000, NormEps: 1e-6}},
		{`{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,
		   "rope_parameters":{"rope_type":"default","rope_theta":1000000.0}}`,
			Config{Dim: 64, HiddenDim: 96, NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, VocabSize: 10, SeqLen: 2048,
				RopeTheta: 1e6, NormEps: 1e-6}},
	} {
		var hc hfConfig
		if err := json.Unmarshal([]byte(tc.json), &hc); err != nil {
			t.Fatal(err)
		}
		c, sizes, err := hc.toConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, tc.want) || len(sizes) != c.NumLayers || sizes[0] != (hfLayerSizes{c.NumHeads, c.NumKVHeads, c.HiddenDim}) {
			t.Errorf("got %+v (layers %v), want %+v", c, sizes, tc.want)
		}
	}
}
