//go:build !noasm

package native

// matVec computes out[j] = Σ_p x[p]·w[j*ldw+p] for j in [lo, hi), p < in:
// the product of one token, as decoding runs it. A packed panel would be
// used once, so the kernels read w as stored, 16 rows at a time, and
// transpose it in registers; they sum as the gemm kernels do, so the bits
// are those of a prefill. Both AVX2 and AVX-512 gemms use it: on a memory
// bound product the width of the vectors does not matter. The caller has
// checked the bounds of x, w and out.
func matVec(sc *scratch, out, x, w []float32, ldw, in, lo, hi int) {
	j := lo
	if setPeriod(ldw) >= 8 {
		for ; j+32 <= hi; j += 32 {
			mvavx2_32(in, &w[j*ldw], ldw, &x[0], &out[j])
		}
	}
	for ; j+16 <= hi; j += 16 {
		mvavx2_16(in, &w[j*ldw], ldw, &x[0], &out[j])
	}
	if j+8 <= hi {
		mvavx2_8(in, &w[j*ldw], ldw, &x[0], &out[j])
		j += 8
	}
	if j == hi {
		return
	}
	// the last rows, copied after each other with zero rows up to 8, since
	// the kernel reads whole groups
	r := hi - j
	if len(sc.rows) < 8*in {
		sc.rows = make([]float32, 8*in)
	}
	buf := sc.rows[:8*in]
	for i := 0; i < r; i++ {
		copy(buf[i*in:(i+1)*in], w[(j+i)*ldw:])
	}
	clear(buf[r*in:])
	mvavx2_8(in, &buf[0], in, &x[0], &sc.tile[0])
	copy(out[j:hi], sc.tile[:r])
}

// vecMat computes out[j] = Σ_p a[p]·b[p*ldb+j] for p < k and the columns
// j < m that fill whole vectors of 8, and returns how many columns it
// computed: the m%8 left at the end are for the packing kernels.
// This is attention's weights times the values for one query: rows of b
// already run along j, so nothing needs packing. The caller has checked
// the bounds.
func vecMat(out, a, b []float32, ldb, k, m int) int {
	j := 0
	for _, v := range [...]struct {
		n    int
		kern func(k int, a *float32, b *float32, ldb int, c *float32)
	}{{64, vmavx2_8}, {32, vmavx2_4}, {16, vmavx2_2}, {8, vmavx2_1}} {
		for ; j+v.n <= m; j += v.n {
			v.kern(k, &a[0], &b[j], ldb, &out[j])
		}
	}
	return j
}

// setPeriod returns after how many rows of ldw floats a row starts in the
// same L1 cache set again (sets repeat every 4 KiB on the CPUs this
// runs on). The kernel for 32 rows reads a line of every row, quarter by
// quarter; with fewer than 8 rows between repeats, more than 4 of its rows
// share a set of 8 ways, lines are evicted before they are read to the end
// and the product falls to half speed: then 16 rows at a time, each group
// of 8 read to the end of its lines before the next.
func setPeriod(ldw int) int {
	s := 4 * ldw % 4096
	if s == 0 {
		return 1
	}
	return 4096 / gcd(s, 4096)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
