package native

import "math/bits"

// byteCount sums products of non-negative sizes without overflowing: once
// a product or the sum exceeds what an int64 holds, it stays overflowed.
// Loaders use it to compare what a header or config describes with the
// real size of the file before allocating anything.
type byteCount struct {
	n        uint64
	overflow bool
}

// add adds the product of factors (each must be non-negative; a negative
// factor counts as overflow, since it cannot describe a size).
func (b *byteCount) add(factors ...int64) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			b.overflow = true
			return
		}
		hi, lo := bits.Mul64(p, uint64(f))
		if hi != 0 {
			b.overflow = true
			return
		}
		p = lo
	}
	sum, carry := bits.Add64(b.n, p, 0)
	if carry != 0 || sum > 1<<63-1 {
		b.overflow = true
		return
	}
	b.n = sum
}

// value returns the count and whether it is exact (no overflow).
func (b *byteCount) value() (int64, bool) {
	if b.overflow {
		return 0, false
	}
	return int64(b.n), true
}
