//go:build !noasm

package native

// matVec computes out[j] = Σ_p x[p]·w[j*ldw+p] for j in [lo, hi), p < in:
// the product of one token, as decoding runs it. A packed panel would be
// used once, so the kernels read w as stored and transpose it in
// registers; they sum as the gemm kernels do, so the bits are those of a
// prefill. Both AVX2 and AVX-512 gemms use it: on a memory bound product
// the width of the vectors does not matter. The caller has checked the
// bounds of x, w and out.
//
// Which kernel: weights that fit the L2 cache take 32 rows at a time,
// unless their rows share L1 sets; weights from memory take 16 rows read
// line by line, or 8 when every row falls in the same L1 set (rows a
// multiple of 4 KiB long, as Llama's 4096): measured on this project's
// machine, each choice is 1.2x to 2x faster than the others there.
func matVec(sc *scratch, out, x, w []float32, ldw, in, lo, hi int) {
	j := lo
	period := setPeriod(ldw)
	cached := (hi-lo)*ldw*4 <= l2Bytes
	switch {
	case cached && period >= 8:
		for ; j+32 <= hi; j += 32 {
			mvavx2_32(in, &w[j*ldw], ldw, &x[0], &out[j])
		}
	case !cached && period == 1:
		for ; j+8 <= hi; j += 8 {
			mvavx2_8(in, &w[j*ldw], ldw, &x[0], &out[j])
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

// vecmatKernel is the signature of the vmavx2 kernels.
type vecmatKernel func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

// maxVecMatRows is the most rows of a that vecMat takes: attention's
// queries that share a key/value head, decoding; more rows amortise a
// packed panel.
const maxVecMatRows = 8

// vecMat computes out[t*ldc+j] = Σ_p a[t*lda+p]·b[p*ldb+j] for t < n
// (at most maxVecMatRows), p < k and the columns j < m that fill whole
// vectors of 8, and returns how many columns it computed: the m%8 left at
// the end are for the packing kernels. This is attention's weights times
// the values for the few queries of a decoding step: rows of b already
// run along j, so nothing needs packing. The caller has checked the bounds.
func vecMat(out []float32, ldc int, a []float32, lda int, b []float32, ldb, n, k, m int) int {
	j := 0
	for _, v := range [...]int{8, 4, 2, 1} {
		for ; j+8*v <= m; j += 8 * v {
			for t := 0; t < n; {
				r := vecMatRows(v, n-t)
				vmavx2[v][r](k, &a[t*lda], lda, &b[j], ldb, &out[t*ldc+j], ldc)
				t += r
			}
		}
	}
	return j
}

// vecMatRows returns the most rows, at most n, of a vmavx2 kernel of v
// vectors.
func vecMatRows(v, n int) int {
	for r := min(n, len(vmavx2[v])-1); ; r-- {
		if vmavx2[v][r] != nil {
			return r
		}
	}
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
