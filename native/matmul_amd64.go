//go:build !noasm

package native

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/kernelgen -out kernel_amd64

// defaultGemm is the gemm the forward pass uses: on amd64 the widest SIMD
// kernels this CPU runs (AVX-512, else AVX2 with FMA), else plain Go.
var defaultGemm = gemms()[0]

// gemms lists the gemm implementations this machine can run, fastest
// first, so that tests can check each against the plain loops.
func gemms() []gemm {
	var gs []gemm
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gs = append(gs, gemmAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gs = append(gs, gemmAVX2)
	}
	return append(gs, gemmGo{})
}

// The kernels of kernel_amd64.s: c (mr, nr) = a (mr, k) · b (k, nr) for a
// packed panel b, plus c's old value when load is 1; see kernelgen.
type kernel func(k int, a *float32, lda int, b *float32, c *float32, ldc int, load int)

// gemmSIMD drives the kernels of one instruction set: w (or b) is packed
// kBlock rows at a time into a panel of nr columns that stays in L1, and
// rows of x stream past it mr at a time straight from their slices.
type gemmSIMD struct {
	isa    string
	nr, mr int
	kern   []kernel // indexed by rows, 1..mr

	// narrower, when not nil, takes nn products of at most its nr
	// columns: attention's values are only a head wide, and a panel
	// mostly of zeros would waste the multiplies.
	narrower *gemmSIMD
}

var (
	gemmAVX2N  = &gemmSIMD{isa: "avx2n", nr: 8, mr: 12, kern: kernavx2n}
	gemmAVX2   = &gemmSIMD{isa: "avx2", nr: 16, mr: 6, kern: kernavx2, narrower: gemmAVX2N}
	gemmAVX512 = &gemmSIMD{isa: "avx512", nr: 32, mr: 12, kern: kernavx512, narrower: gemmAVX2}
)

func (g *gemmSIMD) name() string { return g.isa }
func (g *gemmSIMD) align() int   { return g.nr }

func (g *gemmSIMD) nt(sc *scratch, out []float32, ldc int, x []float32, ldx int, w []float32, ldw int, n, in, lo, hi int) {
	if n <= 0 || lo >= hi {
		return
	}
	if in <= 0 {
		for t := 0; t < n; t++ {
			clear(out[t*ldc+lo : t*ldc+hi])
		}
		return
	}
	_, _, _ = x[(n-1)*ldx+in-1], w[(hi-1)*ldw+in-1], out[(n-1)*ldc+hi-1] // the kernels trust these bounds
	if n == 1 {
		matVec(sc, out, x, w, ldw, in, lo, hi)
		return
	}
	block := g.kBlock(sc, n, in)
	for k0 := 0; k0 < in; k0 += block {
		kb := min(block, in-k0)
		a, lda := sc.rowsOf(x[k0:], ldx, n, kb)
		for j0 := lo; j0 < hi; j0 += g.nr {
			jn := min(g.nr, hi-j0)
			packNT(sc.panel, w[j0*ldw+k0:], ldw, kb, jn, g.nr)
			g.rows(sc, out[j0:], ldc, a, lda, n, kb, jn, k0 > 0)
		}
	}
}

func (g *gemmSIMD) nn(sc *scratch, out []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k, m int) {
	if n <= 0 || m <= 0 {
		return
	}
	if g.narrower != nil && m <= g.narrower.nr {
		g.narrower.nn(sc, out, ldc, a, lda, b, ldb, n, k, m)
		return
	}
	if k <= 0 {
		for t := 0; t < n; t++ {
			clear(out[t*ldc : t*ldc+m])
		}
		return
	}
	_, _, _ = a[(n-1)*lda+k-1], b[(k-1)*ldb+m-1], out[(n-1)*ldc+m-1]
	if n <= maxVecMatRows {
		j := vecMat(out, ldc, a, lda, b, ldb, n, k, m)
		if j == m {
			return
		}
		out, b, m = out[j:], b[j:], m-j
	}
	block := g.kBlock(sc, n, k)
	for k0 := 0; k0 < k; k0 += block {
		kb := min(block, k-k0)
		ak, ldak := sc.rowsOf(a[k0:], lda, n, kb)
		for j0 := 0; j0 < m; j0 += g.nr {
			jn := min(g.nr, m-j0)
			packNN(sc.panel, b[k0*ldb+j0:], ldb, kb, jn, g.nr)
			g.rows(sc, out[j0:], ldc, ak, ldak, n, kb, jn, k0 > 0)
		}
	}
}

// kBlock returns the depth of the packed panels for n rows and depth k,
// growing sc.panel to fit. With few rows (decoding) a panel is used
// little, and reading w from memory is what costs: then a panel takes
// longer runs of each row of w (up to maxPanelK), in fewer, longer streams.
func (g *gemmSIMD) kBlock(sc *scratch, n, k int) int {
	if n >= g.mr || k <= kBlock {
		return kBlock
	}
	kb := min(k, maxPanelK)
	if len(sc.panel) < kb*g.nr {
		sc.panel = make([]float32, kb*g.nr)
	}
	return kb
}

// maxPanelK bounds the depth of a panel for few rows: 2048 x 32 floats
// is 256 KiB, a quarter of an L2 cache.
const maxPanelK = 2048

// rowsOf returns the k block a[t*lda : t*lda+kb] of n rows in a form the
// kernels read fast: as it is when rows are close, else copied into
// sc.rows with rows kb apart. Rows thousands of floats apart (a wide
// layer's activations) fall into the same few cache sets, and the kernels,
// which read mr of them at once, would then miss the L1 cache all along.
func (sc *scratch) rowsOf(a []float32, lda, n, kb int) ([]float32, int) {
	if lda <= farRows {
		return a, lda
	}
	if len(sc.rows) < n*kb {
		sc.rows = make([]float32, n*kb)
	}
	for t := 0; t < n; t++ {
		copy(sc.rows[t*kb:(t+1)*kb], a[t*lda:t*lda+kb])
	}
	return sc.rows, kb
}

// farRows is the row stride, in floats, above which rowsOf copies.
const farRows = 512

// rows runs the kernels down all n rows of a against the packed panel of
// jn valid columns, adding to out when load (a later k block). A ragged
// right edge goes through sc.tile, so that the kernels always store whole
// vectors.
func (g *gemmSIMD) rows(sc *scratch, out []float32, ldc int, a []float32, lda, n, kb, jn int, load bool) {
	ld := 0
	if load {
		ld = 1
	}
	panel, nr := &sc.panel[0], g.nr
	for i0 := 0; i0 < n; i0 += g.mr {
		m := min(g.mr, n-i0)
		if jn == nr {
			g.kern[m](kb, &a[i0*lda], lda, panel, &out[i0*ldc], ldc, ld)
			continue
		}
		tile := sc.tile[:m*nr]
		if load {
			for r := 0; r < m; r++ {
				copy(tile[r*nr:r*nr+jn], out[(i0+r)*ldc:])
			}
		}
		g.kern[m](kb, &a[i0*lda], lda, panel, &tile[0], nr, ld)
		for r := 0; r < m; r++ {
			copy(out[(i0+r)*ldc:(i0+r)*ldc+jn], tile[r*nr:r*nr+jn])
		}
	}
}

// packNT writes the panel dst[p*nr+j] = w[j*ldw+p] for p < kb, j < jn, and
// zeros for the columns jn..nr: rows of w become columns, 8x8 blocks at a
// time with AVX2.
func packNT(dst, w []float32, ldw, kb, jn, nr int) {
	k8 := kb &^ 7
	j := 0
	for ; j+8 <= jn; j += 8 {
		if k8 > 0 {
			_, _ = w[(j+7)*ldw+k8-1], dst[(k8-1)*nr+j+7]
			packNT8(k8, &w[j*ldw], ldw, &dst[j], nr)
		}
		for r := j; r < j+8; r++ {
			for p := k8; p < kb; p++ {
				dst[p*nr+r] = w[r*ldw+p]
			}
		}
	}
	for ; j < jn; j++ {
		for p, v := range w[j*ldw : j*ldw+kb] {
			dst[p*nr+j] = v
		}
	}
	for ; j < nr; j++ {
		for p := 0; p < kb; p++ {
			dst[p*nr+j] = 0
		}
	}
}

// packNN writes the panel dst[p*nr+j] = b[p*ldb+j] for p < kb, j < jn, and
// zeros for the columns jn..nr.
func packNN(dst, b []float32, ldb, kb, jn, nr int) {
	for p := 0; p < kb; p++ {
		d := dst[p*nr : (p+1)*nr]
		copy(d, b[p*ldb:p*ldb+jn])
		clear(d[jn:])
	}
}
