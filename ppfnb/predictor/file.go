package predictor

import (
	"fmt"
	"io"
	"os"

	"github.com/ppfkit/ppf/ppfnb/internal/atomicfile"
	"github.com/ppfkit/ppf/ppfnb/internal/jsonfile"
)

// The predictor file: one JSON object.
const (
	FileFormat  = "ppf-predictor" // the "format" field
	FileVersion = 1               // the "version" field; files of other versions are refused
)

// File is the predictor file's content.
type File struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	ModelID string       `json:"model_id"`
	Layers  int          `json:"layers"` // layer count, also in Space, checked on load
	Space   Space        `json:"space"`
	Arch    Arch         `json:"arch"`
	Norm    Norm         `json:"norm"`
	Summary TrainSummary `json:"summary"`
	Weights []Tensor     `json:"weights"`
}

// Encode writes p as one JSON object. Weights keep every bit: Go writes
// the shortest decimal that reads back as the same float64.
func (p *Predictor) Encode(w io.Writer) error {
	f := File{Format: FileFormat, Version: FileVersion, ModelID: p.space.ModelID, Layers: len(p.space.Layers),
		Space: p.space, Arch: p.net.arch, Norm: p.norm, Summary: p.summary, Weights: p.net.tensors()}
	return jsonfile.Encode(w, f)
}

// Save writes p to path (through a temporary file renamed into place).
func (p *Predictor) Save(path string) error {
	return atomicfile.Write(path, p.Encode)
}

// Decode reads a predictor file for any model; use Check (or Load) to
// make sure it is the one wanted.
func Decode(r io.Reader) (*Predictor, error) {
	var f File
	if err := jsonfile.Decode(r, FileFormat, FileVersion, "predictor", "Predictor.Save", ErrMismatch, &f); err != nil {
		return nil, err
	}
	if f.ModelID != f.Space.ModelID || f.Layers != len(f.Space.Layers) {
		return nil, fmt.Errorf("damaged predictor file: header says model %q with %d layers, its space %q with %d",
			f.ModelID, f.Layers, f.Space.ModelID, len(f.Space.Layers))
	}
	// Check the architecture's sizes against the weights actually present
	// before allocating anything of its size.
	_, _, size, err := f.Arch.plan(len(f.Space.Layers))
	if err != nil {
		return nil, fmt.Errorf("damaged predictor file: %w", err)
	}
	present := 0
	for _, t := range f.Weights {
		present += len(t.Data)
	}
	if present != size {
		return nil, fmt.Errorf("damaged predictor file: its weights hold %d values, but arch %+v over %d layers has %d parameters",
			present, f.Arch, len(f.Space.Layers), size)
	}
	p, err := newPredictor(f.Space, f.Arch, f.Norm)
	if err != nil {
		return nil, fmt.Errorf("damaged predictor file: %w", err)
	}
	if err := p.net.setTensors(f.Weights); err != nil {
		return nil, err
	}
	p.summary = f.Summary
	return p, nil
}

// Check reports whether p was trained for want: the same model ID, layer
// count and units.
func (p *Predictor) Check(want Space) error {
	if err := p.space.Match(want); err != nil {
		return fmt.Errorf("the predictor does not fit: %w", err)
	}
	return nil
}

// Match returns nil when s and want are the same space, and otherwise an
// error wrapping ErrMismatch that says how they differ.
func (s Space) Match(want Space) error {
	switch {
	case s.ModelID != want.ModelID:
		return fmt.Errorf("%w: made for model %q, not %q; train one for this model", ErrMismatch, s.ModelID, want.ModelID)
	case len(s.Layers) != len(want.Layers):
		return fmt.Errorf("%w: made for %d layers, model %q has %d; train one for this model", ErrMismatch, len(s.Layers), want.ModelID, len(want.Layers))
	case !s.Equal(want):
		return fmt.Errorf("%w: made for another pruning space of model %q (unit counts, costs or minimums differ); train one for this space", ErrMismatch, want.ModelID)
	}
	return nil
}

// Load reads the predictor at path and checks that it was trained for
// want (see Check).
func Load(path string, want Space) (*Predictor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := p.Check(want); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
