package prune

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/ppfkit/ppf/native"
)

// Calibration defaults: the first DefaultCalibTokens tokens of the
// calibration text, run in windows of DefaultCalibSeqLen tokens.
const (
	DefaultCalibTokens = 4096
	DefaultCalibSeqLen = 128
)

// Moments accumulates, per column of an activation (one column per input
// feature of a projection), the count of rows, their sum and their sum of
// squares, in float64.
type Moments struct {
	N     int       `json:"n"` // rows (tokens) seen
	Sum   []float64 `json:"sum"`
	SumSq []float64 `json:"sum_sq"`
}

func newMoments(width int) Moments {
	return Moments{Sum: make([]float64, width), SumSq: make([]float64, width)}
}

// Mean is the mean of column j over the tokens seen.
func (m *Moments) Mean(j int) float64 {
	if m.N == 0 {
		return 0
	}
	return m.Sum[j] / float64(m.N)
}

// Var is the sample variance of column j (divided by N-1, as torch.var).
func (m *Moments) Var(j int) float64 {
	if m.N < 2 {
		return 0
	}
	n := float64(m.N)
	return max(0, (m.SumSq[j]-m.Sum[j]*m.Sum[j]/n)/(n-1))
}

// Norm is the root mean square of column j: the column's L2 norm over the
// tokens seen divided by √N. Wanda's ‖X_j‖ up to that constant factor,
// which changes no ranking, and independent of the calibration length.
func (m *Moments) Norm(j int) float64 {
	if m.N == 0 {
		return 0
	}
	return math.Sqrt(m.SumSq[j] / float64(m.N))
}

func (m *Moments) add(rows []float32, width int) {
	for r := 0; r+width <= len(rows); r += width {
		for j, x := range rows[r : r+width] {
			v := float64(x)
			m.Sum[j] += v
			m.SumSq[j] += v * v
		}
		m.N++
	}
}

func (m *Moments) merge(o *Moments) {
	m.N += o.N
	for j := range m.Sum {
		m.Sum[j] += o.Sum[j]
		m.SumSq[j] += o.SumSq[j]
	}
}

// LayerStats is what calibration gathers in one layer.
type LayerStats struct {
	AttnIn  Moments `json:"attn_in"`  // (Dim) normalised input of q, k, v (TapAttnInput)
	AttnOut Moments `json:"attn_out"` // (NumHeads*HeadDim) attention output entering o (TapAttnOutInput)
	MLPIn   Moments `json:"mlp_in"`   // (Dim) normalised input of gate, up (TapMLPInput)
	DownIn  Moments `json:"down_in"`  // (HiddenDim) SwiGLU activations entering down (TapDownInput)

	// CosSum adds up, over CosN tokens, the cosine similarity of the
	// residual stream entering and leaving the layer.
	CosSum float64 `json:"cos_sum"`
	CosN   int     `json:"cos_n"`
}

// Influence is ShortGPT's block influence: 1 - the mean cosine similarity
// of the layer's input and output hidden states.
func (l *LayerStats) Influence() float64 {
	if l.CosN == 0 {
		return 0
	}
	return 1 - l.CosSum/float64(l.CosN)
}

// Stats is the result of one calibration pass over the dense model.
type Stats struct {
	Tokens  int          `json:"tokens"`  // tokens run (whole windows)
	SeqLen  int          `json:"seqlen"`  // window length
	Windows int          `json:"windows"` // windows of SeqLen tokens, each from position 0
	Layers  []LayerStats `json:"layers"`
}

// CalibOptions sets a calibration pass.
type CalibOptions struct {
	SeqLen int // window length; 0 means DefaultCalibSeqLen (or the model's context if shorter)

	// Progress, when not nil, is called after each window with the number
	// of windows done and the total.
	Progress func(done, total int)
}

// Calibrate runs tokens through m, in non-overlapping windows of
// opt.SeqLen tokens each started at position 0 (a shorter tail is
// dropped), and gathers per layer the moments of the inputs of every
// projection and the similarity of each block's input and output. m must
// be unpruned by masks (sliced models are fine: the statistics follow
// their sizes). Cancelling ctx stops it between layers.
//
// The tokens are the calibration split: keep them disjoint from any text
// the pruned model is evaluated on (see Split).
func Calibrate(ctx context.Context, m *native.Model, tokens []int, opt CalibOptions) (*Stats, error) {
	seqLen := opt.SeqLen
	if seqLen == 0 {
		seqLen = min(DefaultCalibSeqLen, m.SeqLen)
	}
	if seqLen < 1 || seqLen > m.SeqLen {
		return nil, fmt.Errorf("%w: window of %d tokens: must be between 1 and the model's context of %d", ErrCalibration, seqLen, m.SeqLen)
	}
	windows := len(tokens) / seqLen
	if windows == 0 {
		return nil, fmt.Errorf("%w: the calibration text has %d tokens, fewer than one window of %d; use a longer text or a shorter window",
			ErrCalibration, len(tokens), seqLen)
	}
	for i, l := range m.Layers {
		if l.HeadMask != nil || l.ChannelMask != nil {
			return nil, fmt.Errorf("%w: layer %d has masks set; calibrate the unpruned model (Reset the masks first)", ErrCalibration, i)
		}
	}

	// As native.Perplexity: small models run one window per core, large
	// ones split each product across cores. Window w goes to worker
	// w mod workers, and the workers' sums are merged in order, so the
	// result does not depend on scheduling.
	cores := runtime.GOMAXPROCS(0)
	workers, perState := 1, cores
	if m.Dim < 512 {
		workers, perState = min(cores, windows), 1
	}
	accs := make([]*accumulator, workers)
	errs := make([]error, workers)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for w := range workers {
		accs[w] = newAccumulator(m, seqLen)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := native.NewState(m, seqLen, seqLen)
			s.Workers = perState
			s.Observe = accs[w].observe
			for k := w; k < windows; k += workers {
				if _, err := s.Forward(ctx, tokens[k*seqLen:(k+1)*seqLen], 0); err != nil {
					errs[w] = err
					return
				}
				if accs[w].err != nil {
					errs[w] = accs[w].err
					return
				}
				mu.Lock()
				done++
				if opt.Progress != nil {
					opt.Progress(done, windows)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
	}
	st := &Stats{Tokens: windows * seqLen, SeqLen: seqLen, Windows: windows, Layers: accs[0].layers}
	for _, a := range accs[1:] {
		for i := range st.Layers {
			l, o := &st.Layers[i], &a.layers[i]
			l.AttnIn.merge(&o.AttnIn)
			l.AttnOut.merge(&o.AttnOut)
			l.MLPIn.merge(&o.MLPIn)
			l.DownIn.merge(&o.DownIn)
			l.CosSum += o.CosSum
			l.CosN += o.CosN
		}
	}
	return st, nil
}

// accumulator gathers the statistics of the windows one State runs.
type accumulator struct {
	layers  []LayerStats
	blockIn []float32 // the current layer's input, kept until its output is seen
	err     error
}

func newAccumulator(m *native.Model, seqLen int) *accumulator {
	a := &accumulator{layers: make([]LayerStats, len(m.Layers)), blockIn: make([]float32, seqLen*m.Dim)}
	for i, l := range m.Layers {
		a.layers[i] = LayerStats{
			AttnIn: newMoments(m.Dim), AttnOut: newMoments(l.NumHeads * m.HeadDim),
			MLPIn: newMoments(m.Dim), DownIn: newMoments(l.HiddenDim),
		}
	}
	return a
}

func (a *accumulator) observe(layer int, tap native.Tap, rows []float32, width int) {
	l := &a.layers[layer]
	var mo *Moments
	switch tap {
	case native.TapBlockInput:
		copy(a.blockIn, rows)
		return
	case native.TapBlockOutput:
		for r := 0; r+width <= len(rows); r += width {
			if c, ok := cosine(a.blockIn[r:r+width], rows[r:r+width]); ok {
				l.CosSum += c
				l.CosN++
			}
		}
		return
	case native.TapAttnInput:
		mo = &l.AttnIn
	case native.TapAttnOutInput:
		mo = &l.AttnOut
	case native.TapMLPInput:
		mo = &l.MLPIn
	case native.TapDownInput:
		mo = &l.DownIn
	default:
		return
	}
	if width != len(mo.Sum) && a.err == nil {
		a.err = fmt.Errorf("layer %d: tap %d shows %d columns, the layer has %d (engine and model disagree)", layer, tap, width, len(mo.Sum))
		return
	}
	mo.add(rows, width)
}

// cosine returns the cosine similarity of a and b, and false when one is zero.
func cosine(a, b []float32) (float64, bool) {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0, false
	}
	return ab / math.Sqrt(aa*bb), true
}

// check reports whether st was gathered on a model with m's sizes.
func (st *Stats) check(m *native.Model) error {
	if len(st.Layers) != len(m.Layers) {
		return fmt.Errorf("%w: statistics of %d layers for a model of %d; calibrate this model", ErrCalibration, len(st.Layers), len(m.Layers))
	}
	for i, l := range m.Layers {
		s := &st.Layers[i]
		if len(s.AttnIn.Sum) != m.Dim || len(s.AttnOut.Sum) != l.NumHeads*m.HeadDim || len(s.MLPIn.Sum) != m.Dim || len(s.DownIn.Sum) != l.HiddenDim {
			return fmt.Errorf("%w: statistics of layer %d do not match its sizes (%d heads, %d channels); calibrate this model",
				ErrCalibration, i, l.NumHeads, l.HiddenDim)
		}
	}
	return nil
}

// Split cuts a tokenized text into the calibration tokens, the first n,
// and the held-out rest for evaluation, so that the two never overlap.
// The text is tokenized once (with BOS) before the cut.
func Split(tokens []int, n int) (calib, heldOut []int, err error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("%w: %d calibration tokens: ask for at least one window", ErrCalibration, n)
	}
	if n >= len(tokens) {
		return nil, nil, fmt.Errorf("%w: the text has %d tokens; calibrating on the first %d leaves none for evaluation: use fewer calibration tokens or another evaluation text",
			ErrCalibration, len(tokens), n)
	}
	return tokens[:n:n], tokens[n:], nil
}
