package native

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"sync"
)

// cutWindows checks tokens against the protocol of Perplexity and
// returns the window length and the number of whole windows.
func cutWindows(m *Model, tokens []int, opt EvalOptions) (seqLen, windows int, err error) {
	seqLen = opt.SeqLen
	if seqLen == 0 {
		seqLen = m.SeqLen
	}
	if seqLen < 2 || seqLen > m.SeqLen {
		return 0, 0, fmt.Errorf("seqlen %d: must be between 2 and the model's context of %d tokens", seqLen, m.SeqLen)
	}
	if opt.MaxTokens > 0 && opt.MaxTokens < len(tokens) {
		tokens = tokens[:opt.MaxTokens]
	}
	windows = len(tokens) / seqLen
	if windows == 0 {
		return 0, 0, fmt.Errorf("%w: the text has %d tokens, fewer than one window of %d; use a longer text or a smaller seqlen",
			ErrTooFewTokens, len(tokens), seqLen)
	}
	for i, tok := range tokens[:windows*seqLen] {
		if tok < 0 || tok >= m.VocabSize {
			return 0, 0, fmt.Errorf("token %d at position %d is outside the model's vocabulary of %d; does the tokenizer belong to this model?",
				tok, i, m.VocabSize)
		}
	}
	return seqLen, windows, nil
}

// EachWindow runs tokens with the protocol of Perplexity (non-overlapping
// windows of opt.SeqLen, each from position 0 with a fresh cache, a
// shorter tail dropped) and calls fn with each window's index, its tokens
// and its logits, (SeqLen, VocabSize) row-major. It is how measures other
// than perplexity (a KL divergence to a reference distribution) read the
// model. fn may run concurrently for different windows and must not keep
// logits, which are reused. With opt.On the windows run on that backend.
// It returns the number of windows.
func EachWindow(ctx context.Context, m *Model, tokens []int, opt EvalOptions, fn func(w int, window []int, logits []float32)) (int, error) {
	seqLen, windows, err := cutWindows(m, tokens, opt)
	if err != nil {
		return 0, err
	}
	if opt.On == nil {
		return windows, runWindows(ctx, m, tokens, seqLen, windows, opt.Progress, fn)
	}
	for w := range windows {
		window := tokens[w*seqLen : (w+1)*seqLen]
		logits, err := opt.On.Logits(ctx, window)
		if err != nil {
			return 0, err
		}
		fn(w, window, logits)
		if opt.Progress != nil {
			opt.Progress(w+1, windows)
		}
	}
	return windows, nil
}

// runWindows runs the first windows windows of tokens on the CPU engine
// and hands each one's logits to fn. Small models keep one core busy per
// window; large ones split each matrix product across all cores.
func runWindows(ctx context.Context, m *Model, tokens []int, seqLen, windows int, progress func(done, total int), fn func(w int, window []int, logits []float32)) error {
	cores := runtime.GOMAXPROCS(0)
	states, perState := 1, cores
	if m.Dim < 512 {
		states, perState = min(cores, windows), 1
	}
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		done     int
		firstErr error
	)
	for range states {
		s := NewState(m, seqLen, seqLen)
		s.Workers = perState
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range next {
				window := tokens[w*seqLen : (w+1)*seqLen]
				logits, err := s.Forward(ctx, window, 0)
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					continue
				}
				fn(w, window, logits)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, windows)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for w := 0; w < windows; w++ {
		select {
		case next <- w:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return cmp.Or(ctx.Err(), firstErr)
}
