package main

import (
	"fmt"
	"strings"
)

// matvec writes mvavx2_R for R = 8·groups rows: the product of one token
// (decoding), read from w as stored, with nothing packed.
//
//	for r := 0; r < R; r++ {
//		s := 0
//		for p := 0; p < k; p++ {
//			s = fma(x[p], w[r*ldw+p], s)
//		}
//		out[r] = s
//	}
//
// The same fused multiply-adds in the same order as the gemm kernels, so
// that a token decoded alone gets the bits it gets in a prefill. That order
// keeps one output on one chain of dependent adds, so a SIMD lane must hold
// one output: each 8x8 block of w (8 rows, 8 values of k) is transposed in
// registers, two 128-bit loads per vector and two rounds of in-lane
// shuffles, into 8 vectors that each hold one k for all 8 rows. Groups of 8
// rows run side by side, so that their chains overlap the 4-cycle latency
// of each multiply-add. The k%4 values left at the end go one at a time,
// a row at a time.
//
// With interleave (for weights in the caches) the groups take turns every
// 4 values of k, which keeps most chains in flight. Without (for weights
// streamed from memory) each group reads its 8 lines to the end before
// the next group starts, and asks for lines ahead: rows a multiple of 4
// KiB apart share one L1 set of 8 ways, and interleaved groups would evict
// each other's lines before their last quarter is read.
func (g *gen) matvec(groups int, interleave bool) {
	rows := 8 * groups
	name := fmt.Sprintf("mvavx2_%d", rows)
	g.text(name, "k int, w *float32, ldw int, x *float32, out *float32", "CX", "SI", "R8", "DI")
	g.p("\tSHLQ $2, R8")
	g.p("\tLEAQ (R8)(R8*2), R12")
	// rows 0-3 of group i from lo[i], rows 4-7 from hi[i]
	lo, hi := []string{"SI", "R13", "AX", "R9"}, []string{"R14", "R11", "BX", "R10"}
	g.p("\tLEAQ (SI)(R8*4), R14")
	for i := 1; i < groups; i++ {
		g.p("\tLEAQ (%s)(R8*8), %s", lo[i-1], lo[i])
		g.p("\tLEAQ (%s)(R8*4), %s", lo[i], hi[i])
	}
	for i := 0; i < groups; i++ {
		g.p("\tVXORPS Y%d, Y%d, Y%d", 8+i, 8+i, 8+i)
	}
	// quarter multiplies in k..k+3 at byte offset off of every row
	idx := []string{"", "(R8*1)", "(R8*2)", "(R12*1)"}
	var all []int
	for i := 0; i < groups; i++ {
		all = append(all, i)
	}
	quarter := func(off int, gs ...int) {
		for p := 0; p < 4; p++ {
			g.p("\tVBROADCASTSS %d(DI), Y%d", off+4*p, 12+p)
		}
		for _, i := range gs {
			// Y0..Y3: rows (0,4), (1,5), (2,6), (3,7), four values of k each
			for r := 0; r < 4; r++ {
				g.p("\tVMOVUPS %d(%s)%s, X%d", off, lo[i], idx[r], r)
				g.p("\tVINSERTF128 $1, %d(%s)%s, Y%d, Y%d", off, hi[i], idx[r], r, r)
			}
			g.p("\tVUNPCKLPS Y1, Y0, Y4")
			g.p("\tVUNPCKHPS Y1, Y0, Y5")
			g.p("\tVUNPCKLPS Y3, Y2, Y6")
			g.p("\tVUNPCKHPS Y3, Y2, Y7")
			// Y0..Y3: k+0..k+3, lane r holding row r
			g.p("\tVUNPCKLPD Y6, Y4, Y0")
			g.p("\tVUNPCKHPD Y6, Y4, Y1")
			g.p("\tVUNPCKLPD Y7, Y5, Y2")
			g.p("\tVUNPCKHPD Y7, Y5, Y3")
			for p := 0; p < 4; p++ {
				g.p("\tVFMADD231PS Y%d, Y%d, Y%d", 12+p, p, 8+i)
			}
		}
	}
	advance := func(bytes int) {
		for i := 0; i < groups; i++ {
			g.p("\tADDQ $%d, %s", bytes, lo[i])
			g.p("\tADDQ $%d, %s", bytes, hi[i])
		}
		g.p("\tADDQ $%d, DI", bytes)
	}
	// 16 values of k per turn, a whole cache line of each row: rows a
	// multiple of 4 KiB apart share their L1 set, and a line read in part
	// would be evicted before the next turn reads the rest
	g.p("\tMOVQ CX, DX\n\tANDQ $-16, DX\n\tLEAQ (DI)(DX*4), DX\n\tCMPQ DI, DX\n\tJEQ %s_8\n%s_loop:", name, name)
	if interleave {
		for q := 0; q < 4; q++ {
			quarter(16*q, all...)
		}
	} else {
		for i := 0; i < groups; i++ {
			// the line prefetchDistance ahead of each row into L2: a
			// stream prefetcher follows only so many rows at once
			for r := 0; r < 4; r++ {
				g.p("\tPREFETCHT1 %d(%s)%s", prefetchDistance, lo[i], idx[r])
				g.p("\tPREFETCHT1 %d(%s)%s", prefetchDistance, hi[i], idx[r])
			}
			for q := 0; q < 4; q++ {
				quarter(16*q, i)
			}
		}
	}
	advance(64)
	g.p("\tCMPQ DI, DX")
	g.p("\tJNE %s_loop", name)
	g.p("%s_8:", name)
	g.p("\tTESTQ $8, CX")
	g.p("\tJZ %s_4", name)
	quarter(0, all...)
	quarter(16, all...)
	advance(32)
	g.p("%s_4:", name)
	g.p("\tTESTQ $4, CX")
	g.p("\tJZ %s_store", name)
	quarter(0, all...)
	advance(16)
	g.p("%s_store:", name)
	g.p("\tMOVQ out+32(FP), DX")
	for i := 0; i < groups; i++ {
		g.p("\tVMOVUPS Y%d, %d(DX)", 8+i, 32*i)
	}
	g.p("\tANDQ $3, CX")
	g.p("\tJZ %s_done", name)
	// SI is row 0 at the first k left; out[r] carries on one row at a time
	g.p(strings.ReplaceAll(`	MOVQ $%d, R9
NAME_row:
	VMOVSS (DX), X0
	MOVQ SI, R10
	MOVQ DI, BX
	MOVQ CX, R11
NAME_k:
	VMOVSS (BX), X1
	VFMADD231SS (R10), X1, X0
	ADDQ $4, R10
	ADDQ $4, BX
	DECQ R11
	JNZ NAME_k
	VMOVSS X0, (DX)
	ADDQ $4, DX
	ADDQ R8, SI
	DECQ R9
	JNZ NAME_row`, "NAME", name), rows)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// vecmat writes vmavx2_V_R for V vectors of 8 columns and R rows: R
// queries' attention weights times the values, read as stored.
//
//	for r := 0; r < R; r++ {
//		for j := 0; j < 8*V; j++ {
//			s := 0
//			for p := 0; p < k; p++ {
//				s = fma(a[r*lda+p], b[p*ldb+j], s)
//			}
//			c[r*ldc+j] = s
//		}
//	}
//
// Rows of b already run along j, so each p is one broadcast per row and V
// fused multiply-adds, with nothing to pack or transpose. Each
// accumulator is a chain of k dependent adds; R·V of them side by side
// (the query heads that share a key/value head) keep the adders busy when
// heads are only 8 wide.
func (g *gen) vecmat(v, r int) {
	name := fmt.Sprintf("vmavx2_%d_%d", v, r)
	g.text(name, "k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int", "CX", "SI", "R9", "DI", "R8", "DX", "R10")
	g.p("\tSHLQ $2, R9\n\tSHLQ $2, R8\n\tSHLQ $2, R10")
	g.p("\tLEAQ (R9)(R9*2), R11\n\tLEAQ (R9)(R9*4), R12\n\tLEAQ (R11)(R9*4), R13")
	rowAddr := []string{"(SI)", "(SI)(R9*1)", "(SI)(R9*2)", "(SI)(R11*1)", "(SI)(R9*4)", "(SI)(R12*1)", "(SI)(R11*2)", "(SI)(R13*1)"}
	for i := 0; i < v*r; i++ {
		g.p("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	g.p("\tTESTQ CX, CX\n\tJZ %s_store\n%s_loop:", name, name)
	for q := 0; q < r; q++ {
		g.p("\tVBROADCASTSS %s, Y%d", rowAddr[q], 8+q)
		for i := 0; i < v; i++ {
			g.p("\tVFMADD231PS %d(DI), Y%d, Y%d", 32*i, 8+q, q*v+i)
		}
	}
	g.p("\tADDQ $4, SI\n\tADDQ R8, DI\n\tDECQ CX\n\tJNZ %s_loop\n%s_store:", name, name)
	for q := 0; q < r; q++ {
		for i := 0; i < v; i++ {
			g.p("\tVMOVUPS Y%d, %d(DX)", q*v+i, 32*i)
		}
		if q < r-1 {
			g.p("\tADDQ R10, DX")
		}
	}
	g.p("\tVZEROUPPER\n\tRET")
}

// vecmatShapes are the (V, R) of the vecmat kernels: R·V accumulators of
// the 16 registers, R broadcasts beside them.
var vecmatShapes = [][2]int{{1, 1}, {1, 2}, {1, 4}, {1, 8}, {2, 1}, {2, 2}, {2, 4}, {4, 1}, {4, 2}, {8, 1}}

// vecmatDecl writes the Go declarations of the vecmat kernels and their
// table.
func (g *gen) vecmatDecl() {
	g.p("")
	g.p("// vmavx2 holds the vector-matrix kernels by vectors of 8 columns and")
	g.p("// rows: c[r*ldc+j] = Σ_p a[r*lda+p]·b[p*ldb+j] for j < 8·vectors,")
	g.p("// p < k, summed as the gemm kernels sum; nil where there is none.")
	g.p("var vmavx2 = [9][9]vecmatKernel{")
	for i, vr := range vecmatShapes {
		if i == 0 || vecmatShapes[i-1][0] != vr[0] {
			fmt.Fprintf(&g.b, "\t%d: {", vr[0])
		} else {
			fmt.Fprintf(&g.b, ", ")
		}
		fmt.Fprintf(&g.b, "%d: vmavx2_%d_%d", vr[1], vr[0], vr[1])
		if i == len(vecmatShapes)-1 || vecmatShapes[i+1][0] != vr[0] {
			g.p("},")
		}
	}
	g.p("}")
	for _, vr := range vecmatShapes {
		g.p("")
		g.p("//go:noescape")
		g.p("func vmavx2_%d_%d(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)", vr[0], vr[1])
	}
}

// matvecDecl writes the Go declarations of the matvec kernels.
func (g *gen) matvecDecl(groups []int) {
	g.p("")
	g.p("// The matrix-vector kernels by rows: out[r] = Σ_p x[p]·w[r*ldw+p] for")
	g.p("// r < rows, p < k, summed as the gemm kernels sum.")
	for _, n := range groups {
		g.p("")
		g.p("//go:noescape")
		g.p("func mvavx2_%d(k int, w *float32, ldw int, x *float32, out *float32)", 8*n)
	}
}

// prefetchDistance is how far ahead of its reads, in bytes, a matvec
// kernel asks for each row's lines: measured on rows 11008 long, 1024
// read at 1.8x the speed of no prefetches, 512 at 1.4x, 2048 at 1.7x.
const prefetchDistance = 1024
