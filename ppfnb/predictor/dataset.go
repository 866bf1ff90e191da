package predictor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/ppfkit/ppf/ppfnb/internal/atomicfile"
)

// ErrBadRecord is wrapped when a measured record is unusable: corrupt
// JSON, an empty line, a perplexity that is not a positive finite number,
// fields that disagree with each other.
var ErrBadRecord = errors.New("bad dataset record")

// Record is one measured policy: the "mask → performance" pair the
// predictor learns from. One record is one line of a JSON Lines file.
type Record struct {
	ModelID    string    `json:"model_id"`
	Policy     Policy    `json:"policy"`     // units kept per layer
	HeadKeep   []float64 `json:"head_keep"`  // kept fraction of each layer's head units (Space.Fractions)
	MLPKeep    []float64 `json:"mlp_keep"`   // kept fraction of each layer's MLP channels
	Ratio      float64   `json:"ratio"`      // global pruning ratio achieved (Space.Ratio)
	Perplexity float64   `json:"perplexity"` // measured; exp(NLL)
	NLL        float64   `json:"nll"`        // mean negative log-likelihood per predicted token, in nats
	Tokens     int       `json:"tokens"`     // predicted tokens the measurement averaged over
	Seconds    float64   `json:"seconds"`    // time the measurement took
	Source     string    `json:"source"`     // how the policy was made: "random", "uniform", "flap", "owl", "agent", "search", "synthetic", ...

	// Units says which units the policy's counts kept inside each layer
	// ("flap" or "wanda-sp", see ppfnb), Backend where perplexity was
	// measured ("cpu", "cuda-bf16", ...). Both are empty in records that
	// ppf wrote before it recorded them.
	Units   string `json:"units,omitempty"`
	Backend string `json:"backend,omitempty"`
}

// NewRecord fills a record for policy p of space s, deriving the kept
// fractions and the ratio from p, and checks it.
func NewRecord(s Space, p Policy, perplexity, nll float64, tokens int, seconds float64, source string) (Record, error) {
	if err := s.ValidatePolicy(p); err != nil {
		return Record{}, err
	}
	h, m := s.Fractions(p)
	r := Record{ModelID: s.ModelID, Policy: p, HeadKeep: h, MLPKeep: m, Ratio: s.Ratio(p),
		Perplexity: perplexity, NLL: nll, Tokens: tokens, Seconds: seconds, Source: source}
	return r, r.Check()
}

// LogPPL is the record's log-perplexity, the predictor's target.
func (r Record) LogPPL() float64 { return math.Log(r.Perplexity) }

// Check reports whether r is usable on its own: a model ID, a policy,
// kept fractions for each of its layers in [0, 1], a ratio in [0, 1], a
// positive finite perplexity that agrees with the NLL (within 1e-3 nats),
// non-negative tokens and seconds.
func (r Record) Check() error {
	if r.ModelID == "" {
		return fmt.Errorf("%w: no model_id", ErrBadRecord)
	}
	L := len(r.Policy.Layers)
	if L == 0 {
		return fmt.Errorf("%w: the policy has no layers", ErrBadRecord)
	}
	if len(r.HeadKeep) != L || len(r.MLPKeep) != L {
		return fmt.Errorf("%w: %d head_keep and %d mlp_keep fractions for a policy of %d layers; build records with NewRecord",
			ErrBadRecord, len(r.HeadKeep), len(r.MLPKeep), L)
	}
	for i := range L {
		if h, m := r.HeadKeep[i], r.MLPKeep[i]; !(h >= 0 && h <= 1 && m >= 0 && m <= 1) {
			return fmt.Errorf("%w: layer %d kept fractions %v and %v must lie in [0, 1]", ErrBadRecord, i, h, m)
		}
	}
	if !(r.Ratio >= 0 && r.Ratio <= 1) {
		return fmt.Errorf("%w: ratio %v must lie in [0, 1]", ErrBadRecord, r.Ratio)
	}
	if math.IsNaN(r.Perplexity) || math.IsInf(r.Perplexity, 0) || r.Perplexity <= 0 {
		return fmt.Errorf("%w: perplexity %v is not a positive finite number; a diverged measurement cannot train the predictor, leave it out or re-measure",
			ErrBadRecord, r.Perplexity)
	}
	if math.IsNaN(r.NLL) || math.IsInf(r.NLL, 0) || math.Abs(r.NLL-math.Log(r.Perplexity)) > 1e-3 {
		return fmt.Errorf("%w: nll %v does not match perplexity %v (whose log is %.6g); store the measured mean NLL and its exp",
			ErrBadRecord, r.NLL, r.Perplexity, math.Log(r.Perplexity))
	}
	if r.Tokens < 0 || !(r.Seconds >= 0) || math.IsInf(r.Seconds, 0) {
		return fmt.Errorf("%w: tokens %d and seconds %v must not be negative", ErrBadRecord, r.Tokens, r.Seconds)
	}
	return nil
}

// CheckSpace reports whether r belongs to space s: the same model ID, a
// valid policy, and fractions and ratio that match its counts (within
// 1e-6 and 1e-4), so records made with another Space are caught.
func (r Record) CheckSpace(s Space) error {
	if err := r.Check(); err != nil {
		return err
	}
	if r.ModelID != s.ModelID {
		return fmt.Errorf("%w: record for model %q, space for %q; train one predictor per model", ErrMismatch, r.ModelID, s.ModelID)
	}
	if err := s.ValidatePolicy(r.Policy); err != nil {
		return err
	}
	h, m := s.Fractions(r.Policy)
	for i := range h {
		if math.Abs(h[i]-r.HeadKeep[i]) > 1e-6 || math.Abs(m[i]-r.MLPKeep[i]) > 1e-6 {
			return fmt.Errorf("%w: layer %d kept fractions %v and %v, but its counts give %v and %v in this space; was it recorded with another Space?",
				ErrMismatch, i, r.HeadKeep[i], r.MLPKeep[i], h[i], m[i])
		}
	}
	if got := s.Ratio(r.Policy); math.Abs(got-r.Ratio) > 1e-4 {
		return fmt.Errorf("%w: ratio %.6g recorded, but the policy removes %.6g of this space's parameters; was it recorded with another Space?",
			ErrMismatch, r.Ratio, got)
	}
	return nil
}

// Dataset is a list of measured records.
type Dataset []Record

// ReadJSONL reads records, one JSON object per line. Every line must be
// a valid record (see Record.Check); an empty or corrupt line, an unknown
// field or trailing data is an error naming the line (counted from 1).
// Nothing is skipped.
func ReadJSONL(r io.Reader) (Dataset, error) {
	br := bufio.NewReader(r)
	var d Dataset
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading line %d: %w", line, err)
		}
		if err == io.EOF && text == "" {
			return d, nil
		}
		text = strings.TrimRight(text, "\r\n")
		if strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("line %d: %w: the line is empty; a JSON Lines file has one record on every line: remove the line", line, ErrBadRecord)
		}
		var rec Record
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&rec); derr != nil {
			hint := "fix or remove it"
			if strings.Contains(text, "NaN") || strings.Contains(text, "Inf") {
				hint = "JSON has no NaN or Infinity, and a diverged measurement cannot train the predictor: remove the line or re-measure"
			}
			return nil, fmt.Errorf("line %d: %w: %v (the line starts %q); %s", line, ErrBadRecord, derr, head(text), hint)
		}
		if extra := dec.Decode(new(json.RawMessage)); extra != io.EOF {
			return nil, fmt.Errorf("line %d: %w: more than one JSON value or trailing text; put one record per line", line, ErrBadRecord)
		}
		if cerr := rec.Check(); cerr != nil {
			return nil, fmt.Errorf("line %d: %w", line, cerr)
		}
		d = append(d, rec)
		if err == io.EOF {
			return d, nil
		}
	}
}

func head(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// LoadDataset reads a JSON Lines file (see ReadJSONL).
func LoadDataset(path string) (Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// WriteJSONL writes d, one record per line, checking each first.
func (d Dataset) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i, r := range d {
		b, err := marshalRecord(r)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func marshalRecord(r Record) ([]byte, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // one line, newline-terminated
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes d to path as JSON Lines, through a temporary file renamed
// into place, so a crash leaves the old file whole.
func (d Dataset) Save(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return d.WriteJSONL(w) })
}

// AppendRecord checks r and appends it as one line to the JSON Lines file
// at path (created if missing): a collector calls it after each
// measurement, so an interrupted collection keeps what it measured.
func AppendRecord(path string, r Record) error {
	b, err := marshalRecord(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Split returns a shuffled copy of d cut in two: the last
// round(testFraction·len) records are the test part. The same seed gives
// the same split.
func (d Dataset) Split(testFraction float64, seed uint64) (train, test Dataset) {
	idx := rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(len(d)) // "split"
	nTest := min(max(int(math.Round(testFraction*float64(len(d)))), 0), len(d))
	train, test = make(Dataset, 0, len(d)-nTest), make(Dataset, 0, nTest)
	for k, i := range idx {
		if k < len(d)-nTest {
			train = append(train, d[i])
		} else {
			test = append(test, d[i])
		}
	}
	return train, test
}

// LogPPL returns every record's log-perplexity.
func (d Dataset) LogPPL() []float64 {
	out := make([]float64, len(d))
	for i, r := range d {
		out[i] = r.LogPPL()
	}
	return out
}

// Ratios returns every record's global ratio.
func (d Dataset) Ratios() []float64 {
	out := make([]float64, len(d))
	for i, r := range d {
		out[i] = r.Ratio
	}
	return out
}
