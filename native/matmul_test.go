package native

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Every gemm this machine runs (AVX-512, AVX2, plain Go; under the noasm
// tag only plain Go) goes through the same conformance checks, each
// implementation forced explicitly.

var oddSizes = []int{1, 3, 17, 63, 65, 127}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// checkProduct compares got[t*ldc+j] with Σ_k a(t,k)·b(k,j) computed in
// float64, relative to Σ_k |a(t,k)·b(k,j)|, the scale of the rounding
// errors any summation order makes.
func checkProduct(t *testing.T, what string, got []float32, ldc, n, k, m int, a, b func(t, k int) float32) {
	t.Helper()
	var worst float64
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			var sum, abs float64
			for p := 0; p < k; p++ {
				v := float64(a(i, p)) * float64(b(p, j))
				sum += v
				abs += math.Abs(v)
			}
			if abs == 0 {
				abs = 1
			}
			worst = max(worst, math.Abs(float64(got[i*ldc+j])-sum)/abs)
		}
	}
	if worst > 1e-5 || math.IsNaN(worst) {
		t.Errorf("%s: relative error %.3g", what, worst)
	}
}

func TestGemmNTMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ins := append([]int{}, oddSizes...)
	ins = append(ins, 8, 300, 513) // a multiple of the pack block, and more than one k block
	for _, g := range gemms() {
		for _, n := range oddSizes {
			for _, m := range oddSizes {
				for _, in := range ins {
					// strided operands, as in attention: row strides larger
					// than the rows, a column range that starts inside out
					ldx, ldw, ldc := in+3, in+5, m+7
					x, w := randSlice(rng, n*ldx), randSlice(rng, m*ldw)
					out := randSlice(rng, n*ldc) // garbage that must be overwritten
					lo := min(m-1, g.align())
					g.nt(newScratch(), out, ldc, x, ldx, w, ldw, n, in, lo, m)
					checkProduct(t, fmt.Sprintf("%s nt n=%d in=%d out=[%d,%d)", g.name(), n, in, lo, m),
						out[lo:], ldc, n, in, m-lo,
						func(i, p int) float32 { return x[i*ldx+p] }, func(p, j int) float32 { return w[(lo+j)*ldw+p] })
				}
			}
		}
	}
}

func TestGemmNNMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range gemms() {
		for _, n := range oddSizes {
			for _, m := range []int{1, 3, 8, 16, 17, 63, 65} {
				for _, k := range []int{1, 3, 17, 65, 127, 300} {
					lda, ldb, ldc := k+1, m+9, m+2
					a, b := randSlice(rng, n*lda), randSlice(rng, k*ldb)
					out := randSlice(rng, n*ldc)
					g.nn(newScratch(), out, ldc, a, lda, b, ldb, n, k, m)
					checkProduct(t, fmt.Sprintf("%s nn n=%d k=%d m=%d", g.name(), n, k, m), out, ldc, n, k, m,
						func(i, p int) float32 { return a[i*lda+p] }, func(p, j int) float32 { return b[p*ldb+j] })
				}
			}
		}
	}
}

// A token's row must come out bit for bit the same whether it is computed
// alone (decoding) or among many (prefill), in every implementation.
func TestGemmRowsIndependentOfBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, in, m = 29, 301, 70
	x, w := randSlice(rng, n*in), randSlice(rng, m*in)
	for _, g := range gemms() {
		all := make([]float32, n*m)
		g.nt(newScratch(), all, m, x, in, w, in, n, in, 0, m)
		one := make([]float32, m)
		for i := 0; i < n; i++ {
			g.nt(newScratch(), one, m, x[i*in:], in, w, in, 1, in, 0, m)
			for j := range one {
				if one[j] != all[i*m+j] {
					t.Fatalf("%s: row %d column %d is %g alone and %g in a batch of %d", g.name(), i, j, one[j], all[i*m+j], n)
				}
			}
		}
	}
}

// MatMul on several workers against the plain loops.
func TestMatMulWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, in, m = 37, 129, 517
	x, w := randSlice(rng, n*in), randSlice(rng, m*in)
	tm := newTeam()
	defer tm.close()
	for _, workers := range []int{1, 2, 3, 8} {
		out := make([]float32, n*m)
		matmul(tm, workers, out, x, w, n, in, m)
		checkProduct(t, fmt.Sprintf("%d workers", workers), out, m, n, in, m,
			func(i, p int) float32 { return x[i*in+p] }, func(p, j int) float32 { return w[j*in+p] })
	}
}

// The element-wise steps, SIMD kernels and plain loops, against float64.
func TestOpsMatchPlainLoops(t *testing.T) {
	for _, vec := range []bool{true, false} {
		t.Run(fmt.Sprintf("vec=%v", vec), func(t *testing.T) {
			useBackend(t, defaultGemm, vec)
			testOps(t)
		})
	}
}

func testOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 1000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
		}
		x[rng.IntN(n)] = -200 // far below the maximum: probability ~0
		got := append([]float32(nil), x...)
		softmax(got)
		m := math.Inf(-1)
		for _, v := range x {
			m = max(m, float64(v))
		}
		var sum float64
		for _, v := range x {
			sum += math.Exp(float64(v) - m)
		}
		for i, v := range x {
			want := math.Exp(float64(v)-m) / sum
			if d := math.Abs(float64(got[i]) - want); d > 1e-5*want && d > 1e-30 {
				t.Errorf("softmax n=%d [%d]: %g, want %g", n, i, got[i], want)
			}
		}

		// expSum against math.Exp, to float64 accuracy, also past the
		// clamp at -708 and at the point where exp underflows
		spread := append([]float32{0, -700, -708, -709, -745, -746, -1e4}, x...)
		last := append(x[:n:n], 1000) // the largest value in the plain tail
		for _, xs := range [][]float32{x, spread, last} {
			mx := float32(math.Inf(-1))
			for _, v := range xs {
				mx = max(mx, v)
			}
			if got := maxOf(xs); got != mx {
				t.Errorf("maxOf n=%d: %g, want %g", len(xs), got, mx)
			}
			var want float64
			for _, v := range xs {
				want += math.Exp(float64(v - mx))
			}
			if got := expSum(xs, mx); math.Abs(got-want) > 1e-14*want {
				t.Errorf("expSum n=%d: %.17g, want %.17g", len(xs), got, want)
			}
		}

		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		if got := sumSquares(x); math.Abs(float64(got)-ss) > 1e-5*ss {
			t.Errorf("sumSquares n=%d: %g, want %g", n, got, ss)
		}
		weight, scaled := randSlice(rng, n), make([]float32, n)
		scaleBy(scaled, x, weight, 0.37)
		for i, v := range x {
			if want := float64(weight[i]) * 0.37 * float64(v); math.Abs(float64(scaled[i])-want) > 1e-6*math.Abs(want) {
				t.Errorf("scaleBy n=%d [%d]: %g, want %g", n, i, scaled[i], want)
			}
		}

		gate, up := append([]float32(nil), x...), randSlice(rng, n)
		swiGLU(gate, up)
		for i, g := range x {
			want := float64(g) / (1 + math.Exp(-float64(g))) * float64(up[i])
			if d := math.Abs(float64(gate[i]) - want); d > 1e-5*math.Abs(want) && d > 1e-30 {
				t.Errorf("swiGLU n=%d [%d] of %g: %g, want %g", n, i, g, gate[i], want)
			}
		}
	}
}

// useBackend makes the forward pass use g, and the SIMD element-wise
// kernels when vec, until the test ends.
func useBackend(t *testing.T, g gemm, vec bool) {
	oldG, oldVec := defaultGemm, vecOps
	defaultGemm, vecOps = g, vec && vecOps
	t.Cleanup(func() { defaultGemm, vecOps = oldG, oldVec })
}

// The engine's golden and prefill tests, once per implementation; the
// float64 reference checks them all in kernels_conformance_test.go.
func TestBackendsGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(ModelsDir(), "..", "reference", "stories260K-greedy-200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m, tk := loadShared(t, "stories260K", "stories260K.bin", "tok512.bin")
	small := RandomModel(Config{Dim: 64, HiddenDim: 96, NumLayers: 3, NumHeads: 8, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 50, SeqLen: 160, RopeTheta: 10000, NormEps: 1e-5}, 7)
	tokens := make([]int, 150) // more than a query block
	for i := range tokens {
		tokens[i] = (i*31 + 7) % 50
	}
	plain, err := NewState(small, len(tokens), 0).Forward(context.Background(), tokens, 0) // defaults
	if err != nil {
		t.Fatal(err)
	}
	plain = append([]float32(nil), plain...)
	for _, g := range gemms() {
		for _, vec := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/vec=%v", g.name(), vec), func(t *testing.T) {
				useBackend(t, g, vec)
				if got := generateGreedy(t, m, tk, "", 200); got != string(want) {
					t.Errorf("greedy output differs from llama2.c's\n got: %q\nwant: %q", got, want)
				}
				full, err := NewState(small, len(tokens), 0).Forward(context.Background(), tokens, 0)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(full, plain); d > 1e-4 {
					t.Errorf("logits differ from the default implementation's by %g", d)
				}
				// prefill of 70 tokens, then one at a time
				s := NewState(small, 70, 0)
				s.Workers = 2
				got, err := s.Forward(context.Background(), tokens[:70], 0)
				if err != nil {
					t.Fatal(err)
				}
				rows := append([]float32(nil), got...)
				for p := 70; p < len(tokens); p++ {
					got, err := s.Forward(context.Background(), tokens[p:p+1], p)
					if err != nil {
						t.Fatal(err)
					}
					rows = append(rows, got...)
				}
				if d := maxAbsDiff(full, rows); d != 0 {
					t.Errorf("prefill and incremental logits differ by %g", d)
				}
			})
		}
	}
}

// After its first call, a forward pass allocates nothing, on one worker
// or several.
func TestForwardAllocatesNothing(t *testing.T) {
	m := RandomModel(Config{Dim: 128, HiddenDim: 256, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		VocabSize: 300, SeqLen: 64}, 11)
	tokens := make([]int, 64)
	for i := range tokens {
		tokens[i] = i * 3
	}
	for _, workers := range []int{1, 2, 4} {
		s := NewState(m, len(tokens), 0)
		s.Workers = workers
		ctx := context.Background()
		allocs := testing.AllocsPerRun(5, func() {
			if _, err := s.Forward(ctx, tokens, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Forward(ctx, tokens[:1], len(tokens)-1); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%d workers: %v allocations per forward pass", workers, allocs)
		}
	}
}

// The checked-in kernels are what the generator writes today.
func TestKernelsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/kernelgen", "-out", filepath.Join(dir, "kernel_amd64"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kernelgen: %v\n%s", err, out)
	}
	for _, f := range []string{"kernel_amd64.s", "kernel_amd64.go"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(f); err != nil || string(got) != string(want) {
			t.Errorf("%s is not what internal/kernelgen writes; run go generate ./native/ (%v)", f, err)
		}
	}
}
