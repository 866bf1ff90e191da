package native

import (
	"context"
	"errors"
	"math"
	"time"
)

// ErrTooFewTokens is wrapped when the evaluation text cannot fill one window.
var ErrTooFewTokens = errors.New("too few tokens")

// EvalOptions sets how perplexity is measured.
type EvalOptions struct {
	SeqLen    int // window length in tokens; 0 means the model's context
	MaxTokens int // use at most this many tokens of the text; 0 means all

	// Progress, when not nil, is called after each window with the number
	// of windows done and the total.
	Progress func(done, total int)

	// On, when not nil, runs the windows on a backend (a GPU) instead of
	// the CPU engine: an Evaluator loaded from the same Model, which the
	// caller has Synced with the Model's current masks.
	On Evaluator
}

// EvalResult is a perplexity measurement and the settings that produced it.
type EvalResult struct {
	Perplexity float64 `json:"perplexity"`
	NLL        float64 `json:"nll"`     // mean negative log-likelihood per predicted token, in nats
	Tokens     int     `json:"tokens"`  // predicted tokens, (SeqLen-1) per window
	SeqLen     int     `json:"seqlen"`  // window length
	Windows    int     `json:"windows"` // non-overlapping windows evaluated
	Seconds    float64 `json:"seconds"`
}

// backendBatch is how many windows Perplexity hands a backend at a time:
// enough to fill a GPU's pass (16 windows of 256 tokens are 4096 rows),
// few enough for progress to move.
const backendBatch = 16

// Perplexity measures the model on a tokenized text with the protocol of
// Wanda, FLAP and SliceGPT: the text is cut into non-overlapping windows of
// SeqLen tokens (a shorter tail is dropped), each window is run from
// position 0 with a fresh cache, and the negative log-likelihood of every
// token after the first of each window is averaged; perplexity is its
// exponential. Unlike those scripts, which multiply each window's mean loss
// by SeqLen, the average here is over the tokens actually predicted.
//
// With opt.On the windows run on that backend, after the same checks.
//
// Cancelling ctx stops the run between layers and returns ctx's error.
func Perplexity(ctx context.Context, m *Model, tokens []int, opt EvalOptions) (EvalResult, error) {
	start := time.Now()
	seqLen, windows, err := cutWindows(m, tokens, opt)
	if err != nil {
		return EvalResult{}, err
	}
	if opt.On != nil {
		res, err := PerplexityOn(ctx, opt.On, tokens[:windows*seqLen], seqLen, backendBatch, opt.Progress)
		res.Seconds = time.Since(start).Seconds()
		return res, err
	}
	windowNLL := make([]float64, windows) // summed in window order, for results that do not depend on scheduling
	err = runWindows(ctx, m, tokens, seqLen, windows, opt.Progress, func(w int, window []int, logits []float32) {
		var sum float64
		for t := 0; t < seqLen-1; t++ {
			sum -= logSoftmaxAt(logits[t*m.VocabSize:(t+1)*m.VocabSize], window[t+1])
		}
		windowNLL[w] = sum
	})
	if err != nil {
		return EvalResult{}, err
	}
	var sum float64
	for _, v := range windowNLL {
		sum += v
	}
	n := windows * (seqLen - 1)
	nll := sum / float64(n)
	return EvalResult{
		Perplexity: math.Exp(nll), NLL: nll, Tokens: n, SeqLen: seqLen, Windows: windows,
		Seconds: time.Since(start).Seconds(),
	}, nil
}
