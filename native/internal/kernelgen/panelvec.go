package main

import "fmt"

// panelVec writes pvavx2_V for V vectors of 8 columns: the product of one
// token with weights packed once into a panel of k rows of 8·V columns
// (column j of the panel is row j of the weight), read front to back:
//
//	for j := 0; j < 8*V; j++ {
//		s := 0
//		for p := 0; p < k; p++ {
//			s = fma(x[p], panel[p*8*V+j], s)
//		}
//		out[j] = s
//	}
//
// The gemm kernels' sums in their order, so a token gets its prefill's
// bits, with no shuffles: a lane already holds one output. V = 8 keeps
// eight chains in flight, enough to hide the multiply-add's latency, and
// reads 256 bytes per value of k from one contiguous stream, which the
// hardware prefetchers follow: software prefetches 1 KiB ahead made the
// product 10% slower on rows 4096 long.
func (g *gen) panelVec(v int) {
	name := fmt.Sprintf("pvavx2_%d", v)
	g.text(name, "k int, panel *float32, x *float32, out *float32", "CX", "SI", "DI", "DX")
	for i := 0; i < v; i++ {
		g.p("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	row := 32 * v // bytes of one panel row
	step := func(p int) {
		b := 15 - p%2 // alternate broadcast registers, so steps overlap
		g.p("\tVBROADCASTSS %d(DI), Y%d", 4*p, b)
		for i := 0; i < v; i++ {
			g.p("\tVFMADD231PS %d(SI), Y%d, Y%d", p*row+32*i, b, i)
		}
	}
	const unroll = 4
	g.p("\tCMPQ CX, $%d", unroll)
	g.p("\tJLT %s_tail", name)
	g.p("%s_loop:", name)
	for p := 0; p < unroll; p++ {
		step(p)
	}
	g.p("\tADDQ $%d, SI", unroll*row)
	g.p("\tADDQ $%d, DI", unroll*4)
	g.p("\tSUBQ $%d, CX", unroll)
	g.p("\tCMPQ CX, $%d", unroll)
	g.p("\tJGE %s_loop", name)
	g.p("%s_tail:", name)
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_store", name)
	step(0)
	g.p("\tADDQ $%d, SI", row)
	g.p("\tADDQ $4, DI")
	g.p("\tDECQ CX")
	g.p("\tJMP %s_tail", name)
	g.p("%s_store:", name)
	for i := 0; i < v; i++ {
		g.p("\tVMOVUPS Y%d, %d(DX)", i, 32*i)
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// maxPanelVecs is the widest panelVec kernel, in vectors of 8 columns.
const maxPanelVecs = 8

// panelVecDecl writes the Go declarations of the panelVec kernels and
// their table by vectors.
func (g *gen) panelVecDecl() {
	g.p("")
	g.p("// pvavx2 holds the packed-panel matrix-vector kernels by vectors of")
	g.p("// 8 columns, 1..%d: out[j] = Σ_p x[p]·panel[p*8V+j], summed as the", maxPanelVecs)
	g.p("// gemm kernels sum.")
	g.p("var pvavx2 = [...]func(k int, panel *float32, x *float32, out *float32){nil,")
	for v := 1; v <= maxPanelVecs; v++ {
		g.p("\tpvavx2_%d,", v)
	}
	g.p("}")
	for v := 1; v <= maxPanelVecs; v++ {
		g.p("")
		g.p("//go:noescape")
		g.p("func pvavx2_%d(k int, panel *float32, x *float32, out *float32)", v)
	}
}

// readStream writes readavx2: a plain read of n floats (a multiple of
// 64) front to back, 256 bytes per turn on eight chains of adds, their
// sum stored as one vector into out. It is the bandwidth benchmark's reference, which
// the panel kernel's stream of loads must be measured against: the same
// loads, with the multiplies left out.
func (g *gen) readStream() {
	g.text("readavx2", "n int, p *float32, out *float32", "CX", "SI", "DX")
	for i := 0; i < 8; i++ {
		g.p("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	g.p("\tSHRQ $6, CX")
	g.p("\tJZ read_store")
	g.p("read_loop:")
	for i := 0; i < 8; i++ {
		g.p("\tVADDPS %d(SI), Y%d, Y%d", 32*i, i, i)
	}
	g.p("\tADDQ $256, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ read_loop")
	g.p("read_store:")
	for i := 1; i < 8; i++ {
		g.p("\tVADDPS Y%d, Y0, Y0", i)
	}
	g.p("\tVMOVUPS Y0, (DX)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}
