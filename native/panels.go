package native

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// Decoding multiplies one token by every weight, so each weight is read
// once per token and the product is as fast as its reads. Read as stored
// (matVec), a row-major weight must be transposed in registers to keep the
// gemm's order of sums, and the shuffles, not the reads, set the pace. So
// Generate packs the weights once, before its first token, into panels of
// panelCols rows laid side by side (a panel row holds one value of k for
// each of its rows), which the kernels read front to back with no shuffle
// and sum in the gemm's order: the bits are those of a prefill.
//
// The panels live for one Generate call and are dropped after it: weights
// edited between calls (a notebook cell, pruning) are packed afresh, and
// nothing derived from the weights outlives the call that packed it. A
// weight slice replaced during the call (which would be a data race) is
// seen as not packed and read as stored.

// panelCols is the width of a decoding panel: 8 vectors of 8 floats, the
// accumulators that hide the multiply-add's latency.
const panelCols = 64

// packPanel and panelVec are this machine's packing and panel kernel,
// nil where it has none. packPanel writes dst[p*width+j] = w[j*ldw+p] for
// p < in, j < rows and zeros for the columns rows..width; panelVec
// computes out[j] = Σ_p x[p]·panel[p*width+j] for j < width (a multiple
// of 8, at most panelCols), summed as the gemm kernels sum.
var (
	packPanel func(dst, w []float32, ldw, in, rows, width int)
	panelVec  func(out, x, panel []float32, in, width int)
)

// panelMatrix is one weight (out, in) packed for decoding: panel i holds
// rows [64i, 64i+64) as panel[p*width+j] = w[(64i+j)*in+p]. The last panel
// is only as wide as its rows rounded up to 8, its extra columns zero.
type panelMatrix struct {
	w       []float32 // the weight packed, to tell it from a replacement
	in, out int
	data    []float32
}

// panel returns the packed panel starting at row j0 (a multiple of
// panelCols) and its width in columns.
func (pm *panelMatrix) panel(j0 int) ([]float32, int) {
	width := min(panelCols, (pm.out-j0+7)&^7)
	return pm.data[j0*pm.in : j0*pm.in+width*pm.in], width
}

// packedFrom reports whether pm was packed from w, the slice a layer holds
// now, as an (out, in) weight.
func (pm *panelMatrix) packedFrom(w []float32, out, in int) bool {
	return pm != nil && pm.out == out && pm.in == in && len(w) == len(pm.w) && len(w) > 0 && &w[0] == &pm.w[0]
}

// panelBytes returns the bytes the packed copy of an (out, in) weight takes.
func panelBytes(out, in int) int64 {
	return 4 * int64((out+7)&^7) * int64(in)
}

// modelPanels is a model's weights packed for decoding. Its methods take
// a nil receiver as nothing packed.
type modelPanels struct {
	layers []layerPanels
	output *panelMatrix
}

type layerPanels struct {
	wq, wk, wv, wo, gate, up, down *panelMatrix
}

// layer returns layer i's panels, none when nothing is packed.
func (mp *modelPanels) layer(i int) layerPanels {
	if mp == nil || i >= len(mp.layers) {
		return layerPanels{}
	}
	return mp.layers[i]
}

// classifier returns the output weight's panels, nil when not packed.
func (mp *modelPanels) classifier() *panelMatrix {
	if mp == nil {
		return nil
	}
	return mp.output
}

// weight is one weight Forward multiplies by, (out, in), and where its
// panels go.
type weight struct {
	w       []float32
	out, in int
	dst     **panelMatrix
}

// weightsOf lists m's weights, with mp's fields for their panels.
func weightsOf(m *Model, mp *modelPanels) []weight {
	var ws []weight
	hd := m.HeadDim
	for i := range m.Layers {
		l, p := &m.Layers[i], &mp.layers[i]
		ws = append(ws,
			weight{l.Wq, l.NumHeads * hd, m.Dim, &p.wq},
			weight{l.Wk, l.NumKVHeads * hd, m.Dim, &p.wk},
			weight{l.Wv, l.NumKVHeads * hd, m.Dim, &p.wv},
			weight{l.Wo, m.Dim, l.NumHeads * hd, &p.wo},
			weight{l.Gate, l.HiddenDim, m.Dim, &p.gate},
			weight{l.Up, l.HiddenDim, m.Dim, &p.up},
			weight{l.Down, m.Dim, l.HiddenDim, &p.down})
	}
	return append(ws, weight{m.Output, m.VocabSize, m.Dim, &mp.output})
}

// packForDecoding packs m's weights for decoding tokens one at a time, on
// up to workers goroutines, and returns nil, for decoding to read the
// weights as stored, with the same bits, where packing does not pay: on a
// machine without panel kernels; for too few tokens (minPackedTokens); or
// when the copy would take more than a quarter of the memory available
// (an eighth of 8 GiB when that is unknown). It stops, returning nil, when
// ctx is done.
func packForDecoding(ctx context.Context, m *Model, tokens, workers int) *modelPanels {
	if packPanel == nil || defaultGemm == gemm(gemmGo{}) {
		// the panel kernels fuse each multiply-add, as the SIMD gemms do
		// and the plain Go one (a test's choice) does not
		return nil
	}
	mp := &modelPanels{layers: make([]layerPanels, len(m.Layers))}
	ws := weightsOf(m, mp)
	var total int64
	for _, w := range ws {
		total += panelBytes(w.out, w.in)
	}
	if tokens < minPackedTokens(total) {
		return nil
	}
	avail, ok := availableMemory()
	if !ok {
		avail = 8 << 30 / 2
	}
	if total > avail/4 {
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(workers, len(ws))) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ws) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if w := ws[i]; w.out > 0 && w.in > 0 && len(w.w) >= w.out*w.in {
					*w.dst = packPanels(w.w, w.out, w.in)
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil // interrupted: the next forward pass reports it
	}
	return mp
}

// minPackedTokens returns the fewest tokens decoded for which packing
// weights of total bytes pays. Weights in the caches are read about 2x
// faster from panels than as stored (BenchmarkMatVec 512x256), where
// shuffles, not reads, bound the latter; decoding stories260K and
// babyllama-tok105 from panels, packing included, was 0.87x to 1.06x as
// fast as reading the weights as stored for 16 tokens, 1.11x to 1.38x
// for 32. Weights streamed from memory gain 1.05x to 1.6x
// (BenchmarkMatVec, BenchmarkMatVecBandwidth) and packing them costs 6
// to 8 products on one core (BenchmarkPackPanels), repaid after up to 160
// tokens. cacheBytes is a guess at the last-level cache (32 MiB, this
// project's machine's L3): a wrong guess costs speed, never bits.
func minPackedTokens(total int64) int {
	if total <= cacheBytes {
		return 32
	}
	return 256
}

const cacheBytes = 32 << 20

// packPanels packs the weight w (out, in) into panels.
func packPanels(w []float32, out, in int) *panelMatrix {
	pm := &panelMatrix{w: w, in: in, out: out, data: make([]float32, panelBytes(out, in)/4)}
	for j0 := 0; j0 < out; j0 += panelCols {
		dst, width := pm.panel(j0)
		packPanel(dst, w[j0*in:], in, in, min(panelCols, out-j0), width)
	}
	return pm
}

// availableMemory returns the memory the kernel says can be allocated
// without swapping (MemAvailable in /proc/meminfo), where there is one.
func availableMemory() (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == "MemAvailable:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// linear computes out = x · wᵀ for T tokens, as matmul does, from pm, w's
// packed panels, when T is 1 and pm was packed from w in this shape.
func (s *State) linear(out, x, w []float32, pm *panelMatrix, T, in, outDim int) {
	if T != 1 || !pm.packedFrom(w, outDim, in) {
		matmul(s.team, s.Workers, out, x, w, T, in, outDim)
		return
	}
	if len(x) < in || len(out) < outDim {
		panic("native: linear slices shorter than their shapes")
	}
	workers := s.Workers
	if in*outDim < minParallelPanelWork() {
		workers = 1
	}
	workers = max(1, min(workers, (outDim+panelCols-1)/panelCols))
	t := &s.team.panels
	*t = panelTask{sc: s.team.scratch(workers), out: out, x: x, pm: pm}
	s.team.run(workers, t)
	*t = panelTask{}
}

// panelTask is one packed product, split by panels across workers.
type panelTask struct {
	sc     []*scratch
	out, x []float32
	pm     *panelMatrix
}

func (t *panelTask) run(w, workers int) {
	lo, hi := split(t.pm.out, panelCols, w, workers)
	for j0 := lo; j0 < hi; j0 += panelCols {
		panel, width := t.pm.panel(j0)
		n := min(panelCols, t.pm.out-j0)
		if n == width {
			panelVec(t.out[j0:j0+n], t.x, panel, t.pm.in, width)
			continue
		}
		tile := t.sc[w].tile[:width]
		panelVec(tile, t.x, panel, t.pm.in, width)
		copy(t.out[j0:j0+n], tile)
	}
}
