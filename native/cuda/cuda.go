//go:build cuda

package cuda

/*
#cgo LDFLAGS: -L${SRCDIR}/build -lppfcuda -Wl,-rpath,${SRCDIR}/build
#include <stdlib.h>
#include "ppfcuda.h"
*/
import "C"

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/ppfkit/ppf/native"
)

func init() {
	native.RegisterBackend(backend{})
	native.RegisterBackend(backend{bf16: true})
	native.RegisterBackend(backend{bf16: true, cublas: true})
}

type backend struct{ bf16, cublas bool }

func (b backend) Name() string {
	switch {
	case b.cublas:
		return "cuda-bf16-cublas"
	case b.bf16:
		return "cuda-bf16"
	}
	return "cuda"
}

func (b backend) Load(m *native.Model) (native.Evaluator, error) {
	return Load(m, Options{BF16: b.bf16, CuBLASAttention: b.cublas})
}

// Options sets how a model is placed on the GPU.
type Options struct {
	BF16      bool // bfloat16 weights and product inputs (float32 accumulation)
	MaxTokens int  // longest window; 0 means min(SeqLen, 4096)

	// With bf16 weights and head widths 64 or 128, attention is one
	// tensor-core kernel (attention.cuh) that skips the causal half of the
	// square and keeps the scores on chip. CuBLASAttention runs it instead
	// as two cuBLAS products around a softmax kernel, as every other
	// configuration does: the reference the fused kernel is tested against.
	CuBLASAttention bool

	// WindowsPerPass bounds how many windows the fused kernel's forward
	// pass runs side by side (0: as many as MaxTokens holds). Windows
	// shorter than MaxTokens, such as PPF's search slice at seqlen 256,
	// otherwise make thin matrix products and many small launches.
	WindowsPerPass int
}

// Evaluator is a model on the GPU; it implements native.Evaluator.
type Evaluator struct {
	m         *native.Model // nil for a random benchmark model
	p         *C.ppf_model
	maxTokens int
	vocab     int
	sizes     [][3]int // per layer: heads, kv heads, hidden, as loaded
}

func lastError() error { return fmt.Errorf("cuda: %s", C.GoString(C.ppf_error())) }

// DeviceName returns the GPU's name.
func DeviceName() (string, error) {
	buf := make([]byte, 256)
	if C.ppf_device_name((*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf))) != 0 {
		return "", lastError()
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0]))), nil
}

func create(c native.Config, sizes [][3]int, opt Options) (*Evaluator, error) {
	T := opt.MaxTokens
	if T <= 0 {
		T = min(c.SeqLen, 4096)
	}
	if T > c.SeqLen {
		return nil, fmt.Errorf("cuda: MaxTokens %d exceeds the model's context of %d", T, c.SeqLen)
	}
	heads, kv, hidden := make([]C.int, len(sizes)), make([]C.int, len(sizes)), make([]C.int, len(sizes))
	for i, s := range sizes {
		heads[i], kv[i], hidden[i] = C.int(s[0]), C.int(s[1]), C.int(s[2])
	}
	cos, sin := native.RopeTables(c, T)
	cfg := C.ppf_config{dim: C.int(c.Dim), hidden_dim: C.int(c.HiddenDim), n_layers: C.int(c.NumLayers),
		n_heads: C.int(c.NumHeads), n_kv_heads: C.int(c.NumKVHeads), head_dim: C.int(c.HeadDim),
		vocab_size: C.int(c.VocabSize), seq_len: C.int(T), norm_eps: C.float(c.NormEps)}
	if opt.BF16 {
		cfg.bf16 = 1
	}
	if !opt.CuBLASAttention {
		cfg.fused_attention = 1
	}
	cfg.window_batch = C.int(opt.WindowsPerPass)
	var p *C.ppf_model
	if C.ppf_create(&cfg, &heads[0], &kv[0], &hidden[0], (*C.float)(&cos[0]), (*C.float)(&sin[0]), &p) != 0 {
		return nil, lastError()
	}
	return &Evaluator{p: p, maxTokens: T, vocab: c.VocabSize, sizes: sizes}, nil
}

func layerSizes(m *native.Model) [][3]int {
	s := make([][3]int, len(m.Layers))
	for i, l := range m.Layers {
		s[i] = [3]int{l.NumHeads, l.NumKVHeads, l.HiddenDim}
	}
	return s
}

// Load copies m's weights to the GPU and applies its masks and biases.
func Load(m *native.Model, opt Options) (*Evaluator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	e, err := create(m.Config, layerSizes(m), opt)
	if err != nil {
		return nil, err
	}
	e.m = m
	up := func(kind C.int, layer int, w []float32) error {
		var ptr *C.float
		if len(w) > 0 {
			ptr = (*C.float)(&w[0])
		}
		if C.ppf_upload(e.p, kind, C.int(layer), ptr, C.long(len(w))) != 0 {
			return lastError()
		}
		return nil
	}
	errs := []error{up(C.PPF_EMBEDDING, -1, m.Embedding), up(C.PPF_FINAL_NORM, -1, m.FinalNorm), up(C.PPF_OUTPUT, -1, m.Output)}
	for i := range m.Layers {
		l := &m.Layers[i]
		errs = append(errs, up(C.PPF_ATTN_NORM, i, l.AttnNorm), up(C.PPF_MLP_NORM, i, l.MLPNorm),
			up(C.PPF_WQ, i, l.Wq), up(C.PPF_WK, i, l.Wk), up(C.PPF_WV, i, l.Wv), up(C.PPF_WO, i, l.Wo),
			up(C.PPF_GATE, i, l.Gate), up(C.PPF_UP, i, l.Up), up(C.PPF_DOWN, i, l.Down))
	}
	for _, err := range errs {
		if err != nil {
			e.Close()
			return nil, err
		}
	}
	if err := e.Sync(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// LoadRandom builds a model of configuration c directly on the GPU with
// reproducible pseudo-random weights: for benchmarks of models too large to
// build on the host.
func LoadRandom(c native.Config, seed uint64, opt Options) (*Evaluator, error) {
	sizes := make([][3]int, c.NumLayers)
	for i := range sizes {
		sizes[i] = [3]int{c.NumHeads, c.NumKVHeads, c.HiddenDim}
	}
	return loadRandomSized(c, sizes, seed, opt)
}

// loadRandomSized is LoadRandom with each layer's heads, key/value heads
// and hidden width given: the shape of a sliced (pruned) model.
func loadRandomSized(c native.Config, sizes [][3]int, seed uint64, opt Options) (*Evaluator, error) {
	e, err := create(c, sizes, opt)
	if err != nil {
		return nil, err
	}
	if C.ppf_randomize(e.p, C.ulonglong(seed)) != 0 {
		e.Close()
		return nil, lastError()
	}
	return e, nil
}

// Sync uploads the model's current masks and compensation biases.
func (e *Evaluator) Sync() error {
	if e.m == nil {
		return nil
	}
	if len(e.m.Layers) != len(e.sizes) {
		return fmt.Errorf("cuda: the model now has %d layers, %d were loaded; Load it again", len(e.m.Layers), len(e.sizes))
	}
	for i := range e.m.Layers {
		l := &e.m.Layers[i]
		if [3]int{l.NumHeads, l.NumKVHeads, l.HiddenDim} != e.sizes[i] {
			return fmt.Errorf("cuda: layer %d changed shape since Load; sliced models must be loaded again", i)
		}
		hm, cm := boolBytes(l.HeadMask), boolBytes(l.ChannelMask)
		if C.ppf_set_pruning(e.p, C.int(i), bytePtr(hm), bytePtr(cm), floatPtr(l.AttnBias), floatPtr(l.MLPBias)) != 0 {
			return lastError()
		}
	}
	return nil
}

func boolBytes(mask []bool) []byte {
	if mask == nil {
		return nil
	}
	b := make([]byte, len(mask))
	for i, on := range mask {
		if on {
			b[i] = 1
		}
	}
	return b
}

func bytePtr(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(&b[0])
}

func floatPtr(f []float32) *C.float {
	if len(f) == 0 {
		return nil
	}
	return (*C.float)(&f[0])
}

func cTokens(tokens []int) []C.int {
	out := make([]C.int, len(tokens))
	for i, t := range tokens {
		out[i] = C.int(t)
	}
	return out
}

// Logits runs tokens from position 0 and returns (len(tokens), VocabSize) logits.
func (e *Evaluator) Logits(ctx context.Context, tokens []int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(tokens) == 0 || len(tokens) > e.maxTokens {
		return nil, fmt.Errorf("cuda: %d tokens; this evaluator takes 1 to %d", len(tokens), e.maxTokens)
	}
	out := make([]float32, len(tokens)*e.vocab)
	ct := cTokens(tokens)
	if C.ppf_logits(e.p, &ct[0], C.int(len(ct)), (*C.float)(&out[0])) != 0 {
		return nil, lastError()
	}
	return out, nil
}

// WindowNLL returns each window's summed negative log-likelihood. Runs of
// windows of one length go to the GPU together, to be run side by side;
// ctx is checked between runs.
func (e *Evaluator) WindowNLL(ctx context.Context, windows [][]int) ([]float64, error) {
	out := make([]float64, len(windows))
	for i := 0; i < len(windows); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := len(windows[i])
		if n < 2 || n > e.maxTokens {
			return nil, fmt.Errorf("cuda: a window of %d tokens; this evaluator takes 2 to %d", n, e.maxTokens)
		}
		j := i + 1
		for j < len(windows) && len(windows[j]) == n {
			j++
		}
		var flat []int
		for _, w := range windows[i:j] {
			flat = append(flat, w...)
		}
		ct := cTokens(flat)
		if C.ppf_window_nll(e.p, &ct[0], C.int(j-i), C.int(n), (*C.double)(&out[i])) != 0 {
			return nil, lastError()
		}
		i = j
	}
	return out, nil
}

// Close frees the GPU memory.
func (e *Evaluator) Close() error {
	if e.p != nil {
		C.ppf_free(e.p)
		e.p = nil
	}
	return nil
}

// GEMMTFLOPS times an m x n x k bfloat16 cuBLAS product: the matrix ceiling
// against which the forward pass's rate is reported.
func GEMMTFLOPS(m, n, k, iters int) (float64, error) {
	var t C.double
	if C.ppf_gemm_tflops(C.int(m), C.int(n), C.int(k), C.int(iters), &t) != 0 {
		return 0, lastError()
	}
	return float64(t), nil
}
