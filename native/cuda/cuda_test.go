//go:build cuda

package cuda

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/backendtest"
	"github.com/ppfkit/ppf/native/tokenizer"
)

// Float32 on the GPU differs from the CPU only in summation order and in
// the fast exponential of the softmax.
var float32Tol = backendtest.Tolerance{Logits: 1e-4, NLL: 1e-4}

// bfloat16 keeps 8 bits of mantissa in weights and product inputs.
var bf16Tol = backendtest.Tolerance{Logits: 5e-2, NLL: 3e-2}

func TestConformanceFloat32(t *testing.T) {
	logDevice(t)
	backendtest.Run(t, backend{bf16: false}, float32Tol)
}

func TestConformanceBF16(t *testing.T) {
	backendtest.Run(t, backend{bf16: true}, bf16Tol)
}

func TestConformanceBF16CuBLAS(t *testing.T) {
	backendtest.Run(t, backend{bf16: true, cublas: true}, bf16Tol)
}

func logDevice(t *testing.T) {
	name, err := DeviceName()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device: %s", name)
}

// The fused attention kernel and the cuBLAS path compute the same
// function: compare them on a model where the fused kernel applies, over
// windows that end mid-tile.
func TestFusedAttentionMatchesCuBLAS(t *testing.T) {
	c := native.Config{Dim: 512, HiddenDim: 256, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 128,
		VocabSize: 100, SeqLen: 512, RopeTheta: 10000, NormEps: 1e-5}
	m := native.RandomModel(c, 9)
	rng := rand.New(rand.NewPCG(3, 4))
	tokens := make([]int, 300)
	for i := range tokens {
		tokens[i] = rng.IntN(c.VocabSize)
	}
	var logits [2][]float32
	for i, fused := range []bool{true, false} {
		ev, err := Load(m, Options{BF16: true, CuBLASAttention: !fused})
		if err != nil {
			t.Fatal(err)
		}
		if logits[i], err = ev.Logits(context.Background(), tokens); err != nil {
			t.Fatal(err)
		}
		ev.Close()
	}
	var diff, scale float64
	for i := range logits[0] {
		diff = max(diff, math.Abs(float64(logits[0][i]-logits[1][i])))
		scale = max(scale, math.Abs(float64(logits[1][i])))
	}
	t.Logf("fused vs cuBLAS attention: max logit difference %.3g (largest logit %.3g)", diff, scale)
	if diff > 2e-2*max(1, scale) {
		t.Errorf("fused and cuBLAS attention differ by %g", diff)
	}
}

// Windows run side by side in one pass give each window the log-likelihood
// it gets alone: positions restart and attention stays inside the window,
// with windows that end mid-tile and a pass that is not full.
func TestWindowsSideBySide(t *testing.T) {
	c := native.Config{Dim: 512, HiddenDim: 256, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 128,
		VocabSize: 100, SeqLen: 512, RopeTheta: 10000, NormEps: 1e-5}
	m := native.RandomModel(c, 11)
	rng := rand.New(rand.NewPCG(5, 6))
	windows := make([][]int, 7) // 5 per pass of 512 rows: one full pass and one of 2
	for i := range windows {
		windows[i] = make([]int, 100)
		for j := range windows[i] {
			windows[i][j] = rng.IntN(c.VocabSize)
		}
	}
	var nll [2][]float64
	for i, per := range []int{0, 1} {
		ev, err := Load(m, Options{BF16: true, WindowsPerPass: per})
		if err != nil {
			t.Fatal(err)
		}
		if nll[i], err = ev.WindowNLL(context.Background(), windows); err != nil {
			t.Fatal(err)
		}
		ev.Close()
	}
	for w := range windows {
		if d := math.Abs(nll[0][w]-nll[1][w]) / 99; d > 1e-3 {
			t.Errorf("window %d: nll %v side by side, %v alone (%.2g nats per token)", w, nll[0][w], nll[1][w], d)
		}
	}
	t.Logf("side by side vs alone: window 0 nll %.6f vs %.6f", nll[0][0], nll[1][0])
}

// Perplexity of the real checkpoints on the GPU against the CPU engine,
// same protocol, same windows.
func TestPerplexityParity(t *testing.T) {
	text, err := native.ReadText(filepath.Join(native.DataDir(), "tinystories", "TinyStories-valid-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, model, tok string }{
		{"stories260K", "stories260K.bin", "tok512.bin"},
		{"babyllama-tok105", "model5000.bin", "tok105.model"},
	} {
		dir := filepath.Join(native.ModelsDir(), c.name)
		m, err := native.LoadLlama2C(filepath.Join(dir, c.model))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := tokenizer.Load(filepath.Join(dir, c.tok))
		if err != nil {
			t.Fatal(err)
		}
		ids := tk.Encode(text, true)
		ctx := context.Background()
		cpu, err := native.Perplexity(ctx, m, ids, native.EvalOptions{SeqLen: 256})
		if err != nil {
			t.Fatal(err)
		}
		for _, bf16 := range []bool{false, true} {
			ev, err := Load(m, Options{BF16: bf16, MaxTokens: 256})
			if err != nil {
				t.Fatal(err)
			}
			gpu, err := native.PerplexityOn(ctx, ev, ids, 256, 8, nil)
			ev.Close()
			if err != nil {
				t.Fatal(err)
			}
			rel := math.Abs(gpu.Perplexity-cpu.Perplexity) / cpu.Perplexity
			t.Logf("%s bf16=%v: perplexity GPU %.6f CPU %.6f, relative difference %.2e", c.name, bf16, gpu.Perplexity, cpu.Perplexity, rel)
			limit := 1e-5
			if bf16 {
				limit = 2e-2
			}
			if rel > limit || gpu.Tokens != cpu.Tokens {
				t.Errorf("%s bf16=%v: GPU perplexity %.6f over %d tokens, CPU %.6f over %d", c.name, bf16, gpu.Perplexity, gpu.Tokens, cpu.Perplexity, cpu.Tokens)
			}
		}
	}
}

// Llama-2-7B's shape: what the paper's 98 s test-set evaluation ran.
var llama7B = native.Config{Dim: 4096, HiddenDim: 11008, NumLayers: 32, NumHeads: 32, NumKVHeads: 32, HeadDim: 128,
	VocabSize: 32000, SeqLen: 2048, RopeTheta: 10000, NormEps: 1e-5}

// WikiText-2's test split is 332,754 tokens with the Llama 2 tokenizer
// (native/tokenizer's count): 162 windows of 2048.
const wikiText2Llama2Tokens = 332754

// BenchmarkGEMMPeak measures the matrix ceiling: one 8192³ bf16 product.
func BenchmarkGEMMPeak(b *testing.B) {
	for range b.N {
		tf, err := GEMMTFLOPS(8192, 8192, 8192, 20)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(tf, "TFLOP/s")
	}
}

// BenchmarkLlama7BWikiText2 evaluates a random Llama-2-7B-shaped model in
// bf16 over a WikiText-2-sized token count at seqlen 2048, with cuBLAS
// attention and with the fused kernel (the default), and reports tokens/s, the
// whole evaluation's seconds, and the achieved fraction of the bf16 matrix
// rate measured in the same run.
func BenchmarkLlama7BWikiText2(b *testing.B) {
	peak, err := GEMMTFLOPS(8192, 8192, 8192, 20)
	if err != nil {
		b.Fatal(err)
	}
	c := llama7B
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]int, wikiText2Llama2Tokens)
	for i := range tokens {
		tokens[i] = rng.IntN(c.VocabSize)
	}
	for _, attn := range []string{"cublas", "fused"} {
		b.Run("attention="+attn, func(b *testing.B) {
			ev, err := LoadRandom(c, 1, Options{BF16: true, MaxTokens: c.SeqLen, CuBLASAttention: attn == "cublas"})
			if err != nil {
				b.Fatal(err)
			}
			defer ev.Close()
			res := timeEvals(b, ev, tokens, c.SeqLen)
			// FLOPs per window: every linear layer (2 per weight per token)
			// and the two attention products over the causal half of the
			// T x T square: the work a perfect kernel must do.
			T := float64(c.SeqLen)
			D, H, L, V := float64(c.Dim), float64(c.HiddenDim), float64(c.NumLayers), float64(c.VocabSize)
			perWindow := 2*T*(L*(4*D*D+3*D*H)+V*D) + L*2*T*T*D
			tflops := perWindow * float64(res.Windows) / res.Seconds / 1e12
			b.ReportMetric(float64(res.Windows*c.SeqLen)/res.Seconds, "tokens/s")
			b.ReportMetric(res.Seconds, "s/eval")
			b.ReportMetric(tflops, "TFLOP/s")
			b.ReportMetric(tflops/peak, "peak-fraction")
			b.ReportMetric(peak, "gemm-TFLOP/s")
		})
	}
}

// BenchmarkLlama7BSearchSlice times one PPF measurement of a random
// Llama-2-7B-shaped model: perplexity over 4,096 tokens in windows of 256
// (the default search slice), with windows run side by side (up to eight
// per pass of 2,048 rows) and one at a time.
func BenchmarkLlama7BSearchSlice(b *testing.B) {
	c := llama7B
	rng := rand.New(rand.NewPCG(3, 4))
	tokens := make([]int, 4096)
	for i := range tokens {
		tokens[i] = rng.IntN(c.VocabSize)
	}
	for _, per := range []int{0, 1} {
		name := map[int]string{0: "side-by-side", 1: "one-at-a-time"}[per]
		b.Run(name, func(b *testing.B) {
			ev, err := LoadRandom(c, 1, Options{BF16: true, MaxTokens: c.SeqLen, WindowsPerPass: per})
			if err != nil {
				b.Fatal(err)
			}
			defer ev.Close()
			timeEvals(b, ev, tokens, 256)
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/measurement")
			b.ReportMetric(float64(len(tokens)*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkLlama7BSliced evaluates random Llama-2-7B-shaped models sliced
// uniformly to a pruning ratio (each layer keeps 1-ratio of its heads, as
// whole key/value groups, and of its MLP channels, in multiples of 64):
// what physical pruning buys on the GPU. 16 windows of 2048 tokens.
func BenchmarkLlama7BSliced(b *testing.B) {
	c := llama7B
	rng := rand.New(rand.NewPCG(7, 8))
	tokens := make([]int, 16*c.SeqLen)
	for i := range tokens {
		tokens[i] = rng.IntN(c.VocabSize)
	}
	for _, ratio := range []float64{0, 0.3, 0.5} {
		b.Run(fmt.Sprintf("ratio=%.1f", ratio), func(b *testing.B) {
			heads := int(math.Round(float64(c.NumHeads) * (1 - ratio)))
			hidden := int(math.Round(float64(c.HiddenDim)*(1-ratio)/64)) * 64
			sizes := make([][3]int, c.NumLayers)
			for i := range sizes {
				sizes[i] = [3]int{heads, heads, hidden} // Llama-2-7B has one query head per key/value head
			}
			ev, err := loadRandomSized(c, sizes, 1, Options{BF16: true, MaxTokens: c.SeqLen})
			if err != nil {
				b.Fatal(err)
			}
			defer ev.Close()
			timeEvals(b, ev, tokens, c.SeqLen)
			b.ReportMetric(float64(len(tokens)*b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(heads), "heads")
			b.ReportMetric(float64(hidden), "hidden")
		})
	}
}

// timeEvals measures the perplexity of tokens in windows of seqLen b.N
// times, after one window as a warm-up (so that cuBLAS's start-up stays out
// of the figure), and returns the last result.
func timeEvals(b *testing.B, ev *Evaluator, tokens []int, seqLen int) native.EvalResult {
	b.Helper()
	if _, err := native.PerplexityOn(context.Background(), ev, tokens[:seqLen], seqLen, 1, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var res native.EvalResult
	for range b.N {
		var err error
		if res, err = native.PerplexityOn(context.Background(), ev, tokens, seqLen, 16, nil); err != nil {
			b.Fatal(err)
		}
	}
	return res
}
