package native

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Decoding's products (one token: matrix-vector for x · wᵀ; a few
// queries: vector-matrix for attention's weights times values) take their
// own kernels. A token must still get the bits a batch (packed panels)
// gives it, over ragged rows, columns and depths, and strided operands.
func TestOneTokenMatchesBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	depths := []int{1, 3, 4, 7, 8, 12, 15, 16, 17, 33, 64, 172, 301}
	widths := []int{1, 5, 8, 9, 16, 17, 24, 31, 33, 70, 130}
	const n = 11 // more than maxVecMatRows and the packing kernels' rows
	for _, g := range gemms() {
		for _, in := range depths {
			for _, m := range widths {
				ldx, ldw, ldc := in+2, in+5, m+3
				x, w := randSlice(rng, n*ldx), randSlice(rng, m*ldw)
				batch, one := make([]float32, n*ldc), randSlice(rng, n*ldc)
				lo := min(m-1, 16)
				g.nt(newScratch(), batch, ldc, x, ldx, w, ldw, n, in, lo, m)
				g.nt(newScratch(), one, ldc, x, ldx, w, ldw, 1, in, lo, m)
				sameBits(t, fmt.Sprintf("%s nt in=%d out=[%d,%d)", g.name(), in, lo, m), one[lo:m], batch[lo:m])

				lda, ldb := in+1, m+4
				a, b := randSlice(rng, n*lda), randSlice(rng, in*ldb)
				g.nn(newScratch(), batch, ldc, a, lda, b, ldb, n, in, m)
				for _, rows := range []int{1, 3, 8} {
					g.nn(newScratch(), one, ldc, a, lda, b, ldb, rows, in, m)
					for r := 0; r < rows; r++ {
						sameBits(t, fmt.Sprintf("%s nn k=%d m=%d row %d of %d", g.name(), in, m, r, rows), one[r*ldc:r*ldc+m], batch[r*ldc:r*ldc+m])
					}
				}
			}
		}
	}
}

// Weights larger than matVec's guess of the L2 cache take the kernels for
// weights streamed from memory: rows in one L1 set (8 at a time), in two
// (16), in many; a token must still get its batch's bits.
func TestOneTokenMatchesBatchLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n, rows = 11, 300
	for _, ldw := range []int{1024, 1536, 1032} {
		in := ldw - 3
		if rows*ldw*4 <= l2Bytes {
			t.Fatalf("%d rows of %d fit the L2 cache matVec assumes", rows, ldw)
		}
		x, w := randSlice(rng, n*in), randSlice(rng, rows*ldw)
		for _, g := range gemms() {
			batch, one := make([]float32, n*rows), make([]float32, rows)
			g.nt(newScratch(), batch, rows, x, in, w, ldw, n, in, 0, rows)
			g.nt(newScratch(), one, rows, x, in, w, ldw, 1, in, 0, rows)
			sameBits(t, fmt.Sprintf("%s nt in=%d ldw=%d", g.name(), in, ldw), one, batch[:rows])
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for j := range want {
		if got[j] != want[j] {
			t.Fatalf("%s: column %d is %g alone and %g in a batch", what, j, got[j], want[j])
		}
	}
}

// Nothing derived from the weights is kept between State.Forward calls:
// weights edited in place between two decoding steps take effect at the
// next step, with the bits a fresh prefill of the edited model gives.
func TestDecodeSeesEditedWeights(t *testing.T) {
	m := RandomModel(Config{Dim: 64, HiddenDim: 172, NumLayers: 2, NumHeads: 8, NumKVHeads: 4, HeadDim: 8,
		VocabSize: 70, SeqLen: 32, RopeTheta: 10000, NormEps: 1e-5}, 13)
	tokens := []int{1, 5, 9, 13, 2, 44, 31, 7}
	ctx := context.Background()
	s := NewState(m, 1, 0)
	for p, tok := range tokens[:len(tokens)-1] {
		if _, err := s.Forward(ctx, []int{tok}, p); err != nil {
			t.Fatal(err)
		}
	}
	// the classifier and the last layer's down projection act after every
	// cached key and value, so the cache stays valid for the edited model
	last := &m.Layers[len(m.Layers)-1]
	for i := range m.Output[:5*m.Dim] {
		m.Output[i] *= -3
	}
	for i := 0; i < len(last.Down); i += 7 {
		last.Down[i] = 0
	}
	got, err := s.Forward(ctx, tokens[len(tokens)-1:], len(tokens)-1)
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewState(m, len(tokens), 0).Forward(ctx, tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "logits after the edit", got, full[(len(tokens)-1)*m.VocabSize:])
}

// Decoding scores the query heads of a key/value head together; with some
// heads masked (pruned), a token must still get its prefill's bits.
func TestDecodeMatchesPrefillWithMaskedHeads(t *testing.T) {
	m := RandomModel(Config{Dim: 64, HiddenDim: 96, NumLayers: 2, NumHeads: 8, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 50, SeqLen: 32, RopeTheta: 10000, NormEps: 1e-5}, 17)
	m.Layers[0].HeadMask = []bool{true, false, true, true, false, false, true, true}
	m.Layers[1].HeadMask = []bool{false, true, true, true, true, true, true, false}
	tokens := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	ctx := context.Background()
	full, err := NewState(m, len(tokens), 0).Forward(ctx, tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	full = append([]float32(nil), full...)
	s := NewState(m, 1, 0)
	for p, tok := range tokens {
		got, err := s.Forward(ctx, []int{tok}, p)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, fmt.Sprintf("position %d", p), got, full[p*m.VocabSize:(p+1)*m.VocabSize])
	}
}
