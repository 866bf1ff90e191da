//go:build !noasm

package native

import "golang.org/x/sys/cpu"

// streamRead reads buf front to back as fast as loads go, 256 bytes a
// turn on eight chains (readavx2), and returns something of what it read
// so that the reads are not dead code.
func streamRead(buf []float32) float32 {
	if !cpu.X86.HasAVX2 || len(buf) < 64 {
		return maxOf(buf)
	}
	var sum [8]float32
	readavx2(len(buf)&^63, &buf[0], &sum[0])
	return sum[0]
}
