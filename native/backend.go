package native

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// A Backend runs models for evaluation. The CPU engine ("cpu") is always
// there; a GPU backend registers itself when the program is built with its
// build tag (see native/cuda). The interface is narrow on purpose: a backend
// takes a plain Model and answers with logits or log-likelihoods, so the
// model code, pruning and the PPF pipeline never see device details.
type Backend interface {
	Name() string
	// Load prepares m on the backend (for a GPU: uploads its weights).
	Load(m *Model) (Evaluator, error)
}

// An Evaluator is a model loaded on a backend.
type Evaluator interface {
	// Logits runs one sequence from position 0 and returns its logits,
	// (len(tokens), VocabSize), in a new slice.
	Logits(ctx context.Context, tokens []int) ([]float32, error)
	// WindowNLL runs each window from position 0 and returns, per window,
	// the summed negative log-likelihood of its tokens 1..len-1 (nats).
	WindowNLL(ctx context.Context, windows [][]int) ([]float64, error)
	// Sync makes the loaded copy follow the Model's pruning masks and
	// compensation biases, which may have changed since Load, without
	// reloading the dense weights. Changed shapes need a new Load.
	Sync() error
	Close() error
}

// ErrUnknownBackend is wrapped when a backend name is not registered.
var ErrUnknownBackend = errors.New("unknown backend")

var (
	backendsMu sync.Mutex
	backends   = map[string]Backend{"cpu": cpuBackend{}}
)

// RegisterBackend makes b available by its name; backends call it from init.
func RegisterBackend(b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	backends[b.Name()] = b
}

// GetBackend returns the backend registered under name.
func GetBackend(name string) (Backend, error) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if b, ok := backends[name]; ok {
		return b, nil
	}
	var names []string
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("%w %q (available: %s; GPU backends need their build tag, e.g. -tags cuda)",
		ErrUnknownBackend, name, strings.Join(names, ", "))
}

// PerplexityOn measures perplexity with the protocol of Perplexity, on any
// evaluator, feeding it batch windows at a time.
func PerplexityOn(ctx context.Context, ev Evaluator, tokens []int, seqLen, batch int, progress func(done, total int)) (EvalResult, error) {
	start := time.Now()
	if seqLen < 2 {
		return EvalResult{}, fmt.Errorf("seqlen %d: must be at least 2", seqLen)
	}
	windows := len(tokens) / seqLen
	if windows == 0 {
		return EvalResult{}, fmt.Errorf("%w: the text has %d tokens, fewer than one window of %d; use a longer text or a smaller seqlen",
			ErrTooFewTokens, len(tokens), seqLen)
	}
	batch = max(1, batch)
	var sum float64
	for w := 0; w < windows; w += batch {
		var ws [][]int
		for i := w; i < min(w+batch, windows); i++ {
			ws = append(ws, tokens[i*seqLen:(i+1)*seqLen])
		}
		nll, err := ev.WindowNLL(ctx, ws)
		if err != nil {
			return EvalResult{}, err
		}
		for _, v := range nll {
			sum += v
		}
		if progress != nil {
			progress(min(w+batch, windows), windows)
		}
	}
	n := windows * (seqLen - 1)
	return EvalResult{Perplexity: math.Exp(sum / float64(n)), NLL: sum / float64(n), Tokens: n, SeqLen: seqLen,
		Windows: windows, Seconds: time.Since(start).Seconds()}, nil
}

// cpuBackend is the engine itself: it reads the Model directly, so Sync
// has nothing to copy.
type cpuBackend struct{}

func (cpuBackend) Name() string { return "cpu" }

func (cpuBackend) Load(m *Model) (Evaluator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &cpuEvaluator{m: m}, nil
}

type cpuEvaluator struct{ m *Model }

func (e *cpuEvaluator) Logits(ctx context.Context, tokens []int) ([]float32, error) {
	logits, err := NewState(e.m, len(tokens), len(tokens)).Forward(ctx, tokens, 0)
	return append([]float32(nil), logits...), err
}

func (e *cpuEvaluator) WindowNLL(ctx context.Context, windows [][]int) ([]float64, error) {
	out := make([]float64, len(windows))
	for i, w := range windows {
		res, err := Perplexity(ctx, e.m, w, EvalOptions{SeqLen: len(w)})
		if err != nil {
			return nil, err
		}
		out[i] = res.NLL * float64(res.Tokens)
	}
	return out, nil
}

func (e *cpuEvaluator) Sync() error  { return e.m.Validate() }
func (e *cpuEvaluator) Close() error { return nil }

// RopeTables returns the RoPE cos and sin tables the engine uses,
// (positions, HeadDim/2), so that other backends rotate identically.
func RopeTables(c Config, positions int) (cos, sin []float32) { return ropeTables(c, positions) }
