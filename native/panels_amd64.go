//go:build !noasm

package native

import "golang.org/x/sys/cpu"

func init() {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	packPanel = packNT
	panelVec = func(out, x, panel []float32, in, width int) {
		_, _, _ = out[width-1], x[in-1], panel[in*width-1] // the kernels trust these bounds
		pvavx2[width/8](in, &panel[0], &x[0], &out[0])
	}
}
