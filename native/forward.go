package native

import (
	"context"
	"fmt"
	"math"
	"runtime"
)

// State is the run state of one sequence: activation buffers sized once for
// up to MaxTokens tokens per Forward call, and the key/value cache. The
// forward pass allocates nothing.
type State struct {
	m          *Model
	MaxTokens  int // tokens one Forward call may take
	MaxContext int // positions the key/value cache holds
	Workers    int // goroutines one Forward call may use; NewState sets all cores

	// Observe, when not nil, is shown activations as Forward computes them
	// (calibration for pruning). rows is (tokens, width), valid only during
	// the call.
	Observe func(layer int, tap Tap, rows []float32, width int)

	x      []float32   // (T, Dim) residual stream
	xb     []float32   // (T, Dim) normalised input of a block
	xb2    []float32   // (T, Dim) output of a block before the residual add
	q      []float32   // (T, maxHeads*HeadDim)
	k      []float32   // (T, maxKVHeads*HeadDim) this call's keys, before the cache
	attOut []float32   // (T, maxHeads*HeadDim) attention-weighted values
	hb     []float32   // (T, maxHidden) SwiGLU gate
	hb2    []float32   // (T, maxHidden) SwiGLU up
	logits []float32   // (T, VocabSize)
	keys   [][]float32 // (layer)(NumKVHeads*HeadDim, MaxContext) key cache, transposed
	values [][]float32 // (layer)(MaxContext, NumKVHeads*HeadDim) value cache
	cos    []float32   // (MaxContext, HeadDim/2) RoPE rotation tables
	sin    []float32   // (MaxContext, HeadDim/2)

	team   *team        // helper goroutines and per-worker scratch, ended with the State
	panels *modelPanels // the weights packed for decoding, during Generate only
}

// Tap names a point of a layer where State.Observe sees activations.
type Tap int

const (
	TapBlockInput   Tap = iota // residual stream entering the layer, width Dim
	TapAttnInput               // normalised input of the q/k/v projections, width Dim
	TapAttnOutInput            // attention output entering Wo, width NumHeads*HeadDim
	TapMLPInput                // normalised input of the gate/up projections, width Dim
	TapDownInput               // SwiGLU activations entering Down, width HiddenDim
	TapBlockOutput             // residual stream leaving the layer, width Dim
)

// NewState allocates the run state for m, for Forward calls of at most
// maxTokens tokens (1 is enough for decoding; a perplexity window needs its
// whole length) over a context of maxContext positions. maxContext 0 means
// the model's SeqLen, which for long-context models makes a large cache:
// ask for what you need.
func NewState(m *Model, maxTokens, maxContext int) *State {
	c := m.Config
	if maxContext <= 0 || maxContext > c.SeqLen {
		maxContext = c.SeqLen
	}
	maxTokens = max(1, min(maxTokens, maxContext))
	maxHeads, maxKVHeads, maxHidden := 0, 0, 0
	for _, l := range m.Layers {
		maxHeads, maxKVHeads, maxHidden = max(maxHeads, l.NumHeads), max(maxKVHeads, l.NumKVHeads), max(maxHidden, l.HiddenDim)
	}
	T := maxTokens
	s := &State{
		m: m, MaxTokens: T, MaxContext: maxContext, Workers: runtime.GOMAXPROCS(0),
		x: make([]float32, T*c.Dim), xb: make([]float32, T*c.Dim), xb2: make([]float32, T*c.Dim),
		q: make([]float32, T*maxHeads*c.HeadDim), k: make([]float32, T*maxKVHeads*c.HeadDim), attOut: make([]float32, T*maxHeads*c.HeadDim),
		hb: make([]float32, T*maxHidden), hb2: make([]float32, T*maxHidden),
		logits: make([]float32, T*c.VocabSize),
		keys:   make([][]float32, len(m.Layers)), values: make([][]float32, len(m.Layers)),
	}
	for i, l := range m.Layers {
		s.keys[i] = make([]float32, maxContext*l.NumKVHeads*c.HeadDim)
		s.values[i] = make([]float32, maxContext*l.NumKVHeads*c.HeadDim)
	}
	s.cos, s.sin = ropeTables(c, maxContext)
	minParallelWork(1) // measured now rather than in the first Forward call
	s.team = newTeam()
	runtime.AddCleanup(s, (*team).close, s.team)
	return s
}

// Forward runs tokens, which sit at positions [pos, pos+len(tokens)) of the
// sequence, through the model. Keys and values of earlier positions must be
// in the cache from previous calls. It returns the logits, (len(tokens),
// VocabSize), valid until the next call. ctx is checked between layers.
func (s *State) Forward(ctx context.Context, tokens []int, pos int) ([]float32, error) {
	m, c := s.m, s.m.Config
	T, D, hd := len(tokens), c.Dim, c.HeadDim
	if T == 0 || T > s.MaxTokens {
		return nil, fmt.Errorf("forward: %d tokens, this state takes 1 to %d per call", T, s.MaxTokens)
	}
	if pos < 0 || pos+T > s.MaxContext {
		return nil, fmt.Errorf("forward: positions %d..%d exceed this state's context of %d tokens", pos, pos+T-1, s.MaxContext)
	}

	// token embeddings
	for t, tok := range tokens {
		if tok < 0 || tok >= c.VocabSize {
			return nil, fmt.Errorf("forward: token id %d outside the vocabulary of %d; does the tokenizer belong to this model?", tok, c.VocabSize)
		}
		copy(s.x[t*D:(t+1)*D], m.Embedding[tok*D:(tok+1)*D])
	}

	for li := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l := &m.Layers[li]
		lp := s.panels.layer(li)
		s.observe(li, TapBlockInput, s.x[:T*D], D)

		if l.NumHeads > 0 && anyTrue(l.HeadMask) {
			qDim, kvDim := l.NumHeads*hd, l.NumKVHeads*hd
			// attention rmsnorm
			rmsNorm(s.xb[:T*D], s.x[:T*D], l.AttnNorm, c.NormEps, D)
			s.observe(li, TapAttnInput, s.xb[:T*D], D)

			// qkv projections; values go straight into the cache
			vc := s.values[li][pos*kvDim : (pos+T)*kvDim]
			q, k := s.q[:T*qDim], s.k[:T*kvDim]
			s.linear(q, s.xb, l.Wq, lp.wq, T, D, qDim)
			s.linear(k, s.xb, l.Wk, lp.wk, T, D, kvDim)
			s.linear(vc, s.xb, l.Wv, lp.wv, T, D, kvDim)

			// RoPE on queries and keys
			for t := 0; t < T; t++ {
				p := pos + t
				cos, sin := s.cos[p*hd/2:(p+1)*hd/2], s.sin[p*hd/2:(p+1)*hd/2]
				rope(q[t*qDim:(t+1)*qDim], cos, sin, hd)
				rope(k[t*kvDim:(t+1)*kvDim], cos, sin, hd)
			}

			// keys into the cache transposed, one row per dimension, so
			// that scores are weights times rows running along positions:
			// one query's scores then need no transposing either
			kt := s.keys[li]
			for t := 0; t < T; t++ {
				for d, v := range k[t*kvDim : (t+1)*kvDim] {
					kt[d*s.MaxContext+pos+t] = v
				}
			}

			// causal grouped-query attention, heads in parallel; masked
			// heads output zeros
			s.attention(li, l, T, pos)
			s.observe(li, TapAttnOutInput, s.attOut[:T*qDim], qDim)

			// output projection back into the residual stream
			s.linear(s.xb2[:T*D], s.attOut[:T*qDim], l.Wo, lp.wo, T, qDim, D)
			addResidual(s.x[:T*D], s.xb2[:T*D], l.AttnBias, D)
		} else if l.AttnBias != nil {
			// all heads pruned: the compensation bias stands in for them
			addResidual(s.x[:T*D], nil, l.AttnBias, D)
		}

		if l.HiddenDim > 0 && anyTrue(l.ChannelMask) {
			H := l.HiddenDim
			// mlp rmsnorm
			rmsNorm(s.xb[:T*D], s.x[:T*D], l.MLPNorm, c.NormEps, D)
			s.observe(li, TapMLPInput, s.xb[:T*D], D)

			// SwiGLU: down(silu(gate x) * up x), masked channels zeroed
			s.linear(s.hb[:T*H], s.xb, l.Gate, lp.gate, T, D, H)
			s.linear(s.hb2[:T*H], s.xb, l.Up, lp.up, T, D, H)
			swiGLU(s.hb[:T*H], s.hb2[:T*H])
			if l.ChannelMask != nil {
				applyMask(s.hb[:T*H], l.ChannelMask)
			}
			s.observe(li, TapDownInput, s.hb[:T*H], H)
			s.linear(s.xb2[:T*D], s.hb[:T*H], l.Down, lp.down, T, H, D)
			addResidual(s.x[:T*D], s.xb2[:T*D], l.MLPBias, D)
		} else if l.MLPBias != nil {
			addResidual(s.x[:T*D], nil, l.MLPBias, D)
		}
		s.observe(li, TapBlockOutput, s.x[:T*D], D)
	}

	// final rmsnorm and classifier
	rmsNorm(s.x[:T*D], s.x[:T*D], m.FinalNorm, c.NormEps, D)
	logits := s.logits[:T*c.VocabSize]
	s.linear(logits, s.x, m.Output, s.panels.classifier(), T, D, c.VocabSize)
	return logits, nil
}

// attention computes, for every query token t (at position pos+t) and query
// head h, softmax(q·kᵀ/√headDim) over positions 0..pos+t, times the values,
// into attOut. Query head h reads key/value head h/(NumHeads/NumKVHeads).
// Heads are split across workers; each head's products go through the gemm
// a block of queries at a time.
func (s *State) attention(li int, l *Layer, T, pos int) {
	hd := s.m.HeadDim
	workers := max(1, min(s.Workers, l.NumHeads))
	if 2*l.NumHeads*T*(pos+T)*hd < minParallelWork(T) {
		workers = 1
	}
	sc := s.team.scratch(workers)
	for _, w := range sc {
		if len(w.scores) < queryBlock*s.MaxContext {
			w.scores = make([]float32, queryBlock*s.MaxContext)
		}
	}
	t := &s.team.attn
	*t = attentionTask{g: defaultGemm, sc: sc, l: l, q: s.q, keys: s.keys[li], values: s.values[li], out: s.attOut,
		T: T, pos: pos, hd: hd, ctx: s.MaxContext, scale: float32(1 / math.Sqrt(float64(hd)))}
	s.team.run(workers, t)
	*t = attentionTask{}
}

// queryBlock is the number of queries whose scores are held at once.
const queryBlock = 64

// attentionTask is State.attention for the heads of one worker.
type attentionTask struct {
	g                    gemm
	sc                   []*scratch
	l                    *Layer
	q, keys, values, out []float32
	T, pos, hd, ctx      int // ctx: the row length of keys
	scale                float32
}

func (a *attentionTask) run(w, workers int) {
	l, hd, T, pos := a.l, a.hd, a.T, a.pos
	qDim, kvDim := l.NumHeads*hd, l.NumKVHeads*hd
	group := l.NumHeads / l.NumKVHeads
	sc := a.sc[w]
	lo, hi := split(l.NumHeads, 1, w, workers)
	if T == 1 {
		a.decode(sc, lo, hi)
		return
	}
	for h := lo; h < hi; h++ {
		if l.HeadMask != nil && !l.HeadMask[h] {
			for t := 0; t < T; t++ {
				clear(a.out[t*qDim+h*hd : t*qDim+(h+1)*hd])
			}
			continue
		}
		kvOff := (h / group) * hd
		for t0 := 0; t0 < T; t0 += queryBlock {
			tq := min(queryBlock, T-t0)
			n := pos + t0 + tq // positions seen by the block's last query
			att := sc.scores[:tq*n]
			a.g.nn(sc, att, n, a.q[t0*qDim+h*hd:], qDim, a.keys[kvOff*a.ctx:], a.ctx, tq, hd, n)
			for r := 0; r < tq; r++ {
				row, seen := att[r*n:(r+1)*n], pos+t0+r+1
				for p := range row[:seen] {
					row[p] *= a.scale
				}
				softmax(row[:seen])
				clear(row[seen:]) // later positions: weight 0, which adds exactly nothing
			}
			a.g.nn(sc, a.out[t0*qDim+h*hd:], qDim, att, n, a.values[kvOff:], kvDim, tq, n, hd)
		}
	}
}

// decode is run for the one query of a decoding step, heads [lo, hi):
// the query heads that share a key/value head are scored together and
// weigh the values together, so that the vector-matrix kernels run their
// chains side by side. Each head's sums are those of run's.
func (a *attentionTask) decode(sc *scratch, lo, hi int) {
	l, hd, n := a.l, a.hd, a.pos+1
	kvDim := l.NumKVHeads * hd
	group := l.NumHeads / l.NumKVHeads
	for h0 := lo; h0 < hi; {
		if l.HeadMask != nil && !l.HeadMask[h0] {
			clear(a.out[h0*hd : (h0+1)*hd])
			h0++
			continue
		}
		// the kept heads from h0 on that read h0's key/value head
		h1 := h0 + 1
		for h1 < min(hi, (h0/group+1)*group, h0+queryBlock) && (l.HeadMask == nil || l.HeadMask[h1]) {
			h1++
		}
		kvOff := (h0 / group) * hd
		att := sc.scores[:(h1-h0)*n]
		a.g.nn(sc, att, n, a.q[h0*hd:], hd, a.keys[kvOff*a.ctx:], a.ctx, h1-h0, hd, n)
		for h := h0; h < h1; h++ {
			row := att[(h-h0)*n : (h-h0+1)*n]
			for p := range row {
				row[p] *= a.scale
			}
			softmax(row)
		}
		a.g.nn(sc, a.out[h0*hd:], hd, att, n, a.values[kvOff:], kvDim, h1-h0, n, hd)
		h0 = h1
	}
}

func (s *State) observe(layer int, tap Tap, rows []float32, width int) {
	if s.Observe != nil {
		s.Observe(layer, tap, rows, width)
	}
}

// anyTrue reports whether a mask keeps anything; a nil mask keeps all.
func anyTrue(mask []bool) bool {
	if mask == nil {
		return true
	}
	for _, on := range mask {
		if on {
			return true
		}
	}
	return false
}

// applyMask zeroes, in every row of x, the columns whose mask entry is false.
func applyMask(x []float32, mask []bool) {
	w := len(mask)
	for r := 0; r < len(x)/w; r++ {
		row := x[r*w : (r+1)*w]
		for i, on := range mask {
			if !on {
				row[i] = 0
			}
		}
	}
}
