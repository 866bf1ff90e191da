package ppfnb

import (
	"context"
	"fmt"
	"math"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// Fitness measures: what a search that runs policies for real minimises.
const (
	// FitnessKL is EvoPress's: the mean KL divergence KL(dense || pruned)
	// of the next-token distributions, in nats per predicted token. It
	// asks the pruned model to behave as the dense one on every token of
	// the vocabulary, not only on the one that came next.
	FitnessKL = "kl"
	// FitnessPPL is the mean negative log-likelihood per predicted token:
	// log perplexity, what collection and PPF's search measure.
	FitnessPPL = "ppl"
)

// maxDenseBytes bounds the dense model's distribution kept for KL fitness.
const maxDenseBytes = 2 << 30

// Judge runs policies for real on the windows of the search slice. The
// *Evaluator is the real one; tests give fakes that count.
type Judge interface {
	// SearchWindows is the number of windows of the search slice and
	// their length in tokens.
	SearchWindows() (n, seqLen int)
	// Fitness of policy p on the listed windows (indices in [0, n)),
	// averaged over their predicted tokens; lower is better.
	Fitness(ctx context.Context, p predictor.Policy, fitness string, windows []int) (float64, error)
}

// SearchWindows is the number of windows of the search slice and their
// length.
func (e *Evaluator) SearchWindows() (n, seqLen int) {
	return e.Slices.Search.Len() / e.Slices.SeqLen, e.Slices.SeqLen
}

// Fitness runs policy p (with the evaluator's units) on the listed
// windows of the search slice and returns its mean KL divergence from the
// dense model (FitnessKL) or its mean negative log-likelihood
// (FitnessPPL) per predicted token. Windows are summed in the order
// listed, so the result does not depend on scheduling.
func (e *Evaluator) Fitness(ctx context.Context, p predictor.Policy, fitness string, windows []int) (float64, error) {
	plan, err := e.Plan(p)
	if err != nil {
		return 0, err
	}
	n, seqLen := e.SearchWindows()
	if len(windows) == 0 {
		return 0, fmt.Errorf("fitness on no windows: list at least one of the search slice's %d", n)
	}
	ids := make([]int, 0, len(windows)*seqLen)
	search, _ := e.tokens(SliceSearch)
	for _, w := range windows {
		if w < 0 || w >= n {
			return 0, fmt.Errorf("search window %d: the search slice has windows 0 to %d", w, n-1)
		}
		ids = append(ids, search[w*seqLen:(w+1)*seqLen]...)
	}
	var dense []denseWindow
	switch fitness {
	case FitnessPPL:
	case FitnessKL:
		if dense, err = e.denseDistribution(ctx); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("fitness %q: use %s or %s", fitness, FitnessKL, FitnessPPL)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	mk, err := prune.Apply(e.LM.Model, plan)
	if err != nil {
		return 0, err
	}
	defer mk.Reset()
	opt, err := e.LM.withBackend(native.EvalOptions{SeqLen: seqLen})
	if err != nil {
		return 0, err
	}
	V := e.LM.Model.VocabSize
	sums := make([]float64, len(windows))
	_, err = native.EachWindow(ctx, e.LM.Model, ids, opt, func(k int, window []int, logits []float32) {
		var s float64
		for t := 0; t < seqLen-1; t++ {
			row := logits[t*V : (t+1)*V]
			if dense == nil {
				s -= native.LogProb(row, window[t+1])
			} else {
				s += dense[windows[k]].kl(t, row)
			}
		}
		sums[k] = s
	})
	if err != nil {
		return 0, err
	}
	var total float64
	for _, s := range sums {
		total += s
	}
	mean := total / float64(len(windows)*(seqLen-1))
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return 0, fmt.Errorf("%w: %s fitness %v on the search slice; the pruned model is broken (NaN or infinite weights or biases?)", ErrDiverged, fitness, mean)
	}
	return mean, nil
}

// denseWindow is the dense model's next-token distribution on one search
// window: per predicted position t, the probabilities p (row t of P) as
// stored, and in float64 sum p_i log p_i and sum p_i over the stored p.
type denseWindow struct {
	p         []float32
	plogp, ps []float64
}

// kl is KL(P || Q) at position t, where Q = softmax(logits):
// sum p_i (log p_i - log q_i) = sum p_i log p_i - sum p_i z_i + lse(z) sum p_i,
// with log q_i = z_i - lse(z). Exact for the stored p, which is what a
// direct computation over those p gives.
func (d *denseWindow) kl(t int, logits []float32) float64 {
	V := len(logits)
	p := d.p[t*V : (t+1)*V]
	var dot float64
	for i, z := range logits {
		dot += float64(p[i]) * float64(z)
	}
	return d.plogp[t] - dot + native.LogSumExp(logits)*d.ps[t]
}

// denseDistribution returns the dense model's next-token distribution on
// every search window, computed on first use (one dense run of the slice;
// not a policy evaluation, so no ledger counts it).
func (e *Evaluator) denseDistribution(ctx context.Context) ([]denseWindow, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dense != nil {
		return e.dense, nil
	}
	n, seqLen := e.SearchWindows()
	V := e.LM.Model.VocabSize
	if bytes := int64(n) * int64(seqLen-1) * int64(V) * 4; bytes > maxDenseBytes {
		return nil, fmt.Errorf("KL fitness keeps the dense model's distribution on the search slice: %d windows x %d positions x %d words = %.1f GiB, over the %d GiB allowed; use fitness %s or fewer search tokens",
			n, seqLen-1, V, float64(bytes)/(1<<30), maxDenseBytes>>30, FitnessPPL)
	}
	search, _ := e.tokens(SliceSearch)
	opt, err := e.LM.withBackend(native.EvalOptions{SeqLen: seqLen})
	if err != nil {
		return nil, err
	}
	dense := make([]denseWindow, n)
	_, err = native.EachWindow(ctx, e.LM.Model, search[:n*seqLen], opt, func(w int, _ []int, logits []float32) {
		d := denseWindow{p: make([]float32, (seqLen-1)*V), plogp: make([]float64, seqLen-1), ps: make([]float64, seqLen-1)}
		for t := range seqLen - 1 {
			row := logits[t*V : (t+1)*V]
			lse := native.LogSumExp(row)
			for i, z := range row {
				lp := float64(z) - lse
				p := float32(math.Exp(lp))
				d.p[t*V+i] = p
				d.plogp[t] += float64(p) * lp
				d.ps[t] += float64(p)
			}
		}
		dense[w] = d
	})
	if err != nil {
		return nil, err
	}
	e.dense = dense
	return dense, nil
}
