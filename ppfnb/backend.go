package ppfnb

import (
	"fmt"

	"github.com/ppfkit/ppf/native"
)

// UseBackend makes the LM's perplexity measurements (Evaluate, and an
// Evaluator's measurements of policies) run on the named backend: "cpu"
// (or "") for the engine itself, or a GPU backend ("cuda", "cuda-bf16")
// in a program built with its tag (go build -tags cuda). The dense weights
// are uploaded once; pruning masks and compensation biases set on
// lm.Model are copied over before every measurement, so many pruned
// variants are measured without reloading. Generation, calibration and
// sliced models stay on the CPU engine.
func (lm *LM) UseBackend(name string) error {
	if name == "" || name == "cpu" {
		return lm.Close()
	}
	b, err := native.GetBackend(name)
	if err != nil {
		return err
	}
	ev, err := b.Load(lm.Model)
	if err != nil {
		return fmt.Errorf("loading %s on backend %s: %w", lm.Name, name, err)
	}
	lm.Close()
	lm.ev, lm.backend = ev, name
	return nil
}

// Backend names the backend measurements run on.
func (lm *LM) Backend() string {
	if lm.ev == nil {
		return "cpu"
	}
	return lm.backend
}

// Close frees what a backend holds (GPU memory) and returns the LM to the
// CPU engine.
func (lm *LM) Close() error {
	if lm.ev == nil {
		return nil
	}
	err := lm.ev.Close()
	lm.ev, lm.backend = nil, ""
	return err
}

// withBackend returns opt set to run on the LM's backend, synced with the
// model's current masks.
func (lm *LM) withBackend(opt native.EvalOptions) (native.EvalOptions, error) {
	if lm.ev == nil {
		return opt, nil
	}
	if err := lm.ev.Sync(); err != nil {
		return opt, fmt.Errorf("backend %s: %w", lm.backend, err)
	}
	opt.On = lm.ev
	return opt, nil
}
