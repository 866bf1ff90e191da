package agent

import (
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ppfkit/ppf/ppfnb/internal/atomicfile"
	"github.com/ppfkit/ppf/ppfnb/internal/jsonfile"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// The agent file: one JSON object, a sibling of the predictor's.
const (
	FileFormat  = "ppf-agent" // the "format" field
	FileVersion = 1           // the "version" field; files of other versions are refused
)

// File is the agent file's content.
type File struct {
	Format  string             `json:"format"`
	Version int                `json:"version"`
	ModelID string             `json:"model_id"`
	Layers  int                `json:"layers"` // layer count, also in Space, checked on load
	Space   predictor.Space    `json:"space"`
	Config  Config             `json:"config"`
	Weights []predictor.Tensor `json:"weights"`
	Curve   []Step             `json:"curve"`
}

// Encode writes a as one JSON object; weights keep every bit.
func (a *Agent) Encode(w io.Writer) error {
	n := a.net
	w1, b1, w2, b2, ls := n.views(n.params)
	t := func(name string, data []float64, shape ...int) predictor.Tensor {
		return predictor.Tensor{Name: name, Shape: shape, Data: append([]float64(nil), data...)}
	}
	f := File{Format: FileFormat, Version: FileVersion, ModelID: a.space.ModelID, Layers: len(a.space.Layers),
		Space: a.space, Config: a.cfg, Curve: a.curve, Weights: []predictor.Tensor{
			t("hidden.w", w1, n.H, numFeatures), t("hidden.b", b1, n.H),
			t("logits.w", w2, n.D, n.H), t("logits.b", b2, n.D), t("log_std", ls, n.D)}}
	return jsonfile.Encode(w, f)
}

// Save writes a to path, through a temporary file renamed into place.
func (a *Agent) Save(path string) error {
	return atomicfile.Write(path, a.Encode)
}

// Decode reads an agent file for any model; use Check (or Load) to make
// sure it is the one wanted.
func Decode(r io.Reader) (*Agent, error) {
	var f File
	if err := jsonfile.Decode(r, FileFormat, FileVersion, "agent", "Agent.Save", predictor.ErrMismatch, &f); err != nil {
		return nil, err
	}
	if f.ModelID != f.Space.ModelID || f.Layers != len(f.Space.Layers) {
		return nil, fmt.Errorf("damaged agent file: header says model %q with %d layers, its space %q with %d",
			f.ModelID, f.Layers, f.Space.ModelID, len(f.Space.Layers))
	}
	if err := f.Space.Validate(); err != nil {
		return nil, fmt.Errorf("damaged agent file: %w", err)
	}
	if err := f.Config.check(f.Space); err != nil {
		return nil, fmt.Errorf("damaged agent file: %w", err)
	}
	// The weights actually present must be those of the config's sizes,
	// checked before anything of those sizes is allocated.
	H, D := f.Config.Hidden, 2*len(f.Space.Layers)
	present := 0
	for _, t := range f.Weights {
		present += len(t.Data)
	}
	if want := H*numFeatures + H + D*H + D + D; present != want {
		return nil, fmt.Errorf("damaged agent file: its weights hold %d values, but config.hidden %d over %d layers needs %d",
			present, H, len(f.Space.Layers), want)
	}
	a, err := newAgent(f.Space, f.Config)
	if err != nil {
		return nil, fmt.Errorf("damaged agent file: %w", err)
	}
	n := a.net
	w1, b1, w2, b2, ls := n.views(n.params)
	want := []struct {
		name string
		dst  []float64
	}{{"hidden.w", w1}, {"hidden.b", b1}, {"logits.w", w2}, {"logits.b", b2}, {"log_std", ls}}
	if len(f.Weights) != len(want) {
		return nil, fmt.Errorf("damaged agent file: %d weight tensors, want %d", len(f.Weights), len(want))
	}
	for i, t := range f.Weights {
		if t.Name != want[i].name || len(t.Data) != len(want[i].dst) {
			return nil, fmt.Errorf("damaged agent file: weight tensor %d is %q with %d values, want %q with %d",
				i, t.Name, len(t.Data), want[i].name, len(want[i].dst))
		}
		for _, x := range t.Data {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("damaged agent file: weight tensor %q holds %v; retrain the agent", t.Name, x)
			}
		}
		copy(want[i].dst, t.Data)
	}
	a.curve = f.Curve
	return a, nil
}

// Check reports whether a was trained for want: the same model ID, layer
// count and units.
func (a *Agent) Check(want predictor.Space) error {
	if err := a.space.Match(want); err != nil {
		return fmt.Errorf("the agent does not fit: %w", err)
	}
	return nil
}

// Load reads the agent at path and checks that it was trained for want.
func Load(path string, want predictor.Space) (*Agent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := a.Check(want); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
