package predictor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatasetRoundTrip(t *testing.T) {
	s := storiesSpace(t)
	_, d := synthData(t, s, 20, 3)
	path := filepath.Join(t.TempDir(), "data.jsonl")
	if err := d.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecord(s, s.Dense(), 5.735, 1.8, 15300, 1.6, "dense"); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("nll 1.8 with perplexity 5.735: err = %v, want ErrBadRecord", err)
	}
	// docs/usage.md's stories260K measurement, as printed (rounded).
	extra, err := NewRecord(s, s.Dense(), 5.735, 1.7466, 15300, 1.6, "dense")
	if err != nil {
		t.Fatal(err)
	}
	if err := AppendRecord(path, extra); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 21 || got[20].Source != "dense" || got[20].Ratio != 0 {
		t.Fatalf("read %d records, last %+v", len(got), got[len(got)-1])
	}
	for i := range d {
		if err := got[i].CheckSpace(s); err != nil {
			t.Fatal(err)
		}
		if got[i].Perplexity != d[i].Perplexity || got[i].Ratio != d[i].Ratio || got[i].Policy.Layers[3] != d[i].Policy.Layers[3] {
			t.Fatalf("record %d changed: %+v -> %+v", i, d[i], got[i])
		}
	}
}

// TestReadJSONLErrors: every bad line is reported with its number.
func TestReadJSONLErrors(t *testing.T) {
	s := storiesSpace(t)
	_, d := synthData(t, s, 3, 3)
	var buf bytes.Buffer
	if err := d.WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n")
	good := lines[0]
	set := func(field, value string) string {
		i := strings.Index(good, `"`+field+`":`)
		j := i + len(field) + 3
		k := j + strings.IndexAny(good[j:], ",}")
		return good[:j] + value + good[k:]
	}
	cases := []struct{ name, third, want string }{
		{"empty", "\n", "line 3: bad dataset record: the line is empty"},
		{"blank", "  \r\n", "line 3: bad dataset record: the line is empty"},
		{"corrupt", `{"model_id": "stories260K", "policy": {"lay` + "\n", "line 3"},
		{"NaN", set("perplexity", "NaN"), "line 3: bad dataset record: invalid character 'N'"},
		{"Infinity", set("perplexity", "Infinity"), "JSON has no NaN or Infinity"},
		{"Inf", set("perplexity", "1e999"), "line 3"},
		{"zero", set("perplexity", "0"), "line 3: bad dataset record: perplexity 0 is not a positive finite number"},
		{"negative", set("perplexity", "-3"), "perplexity -3 is not a positive"},
		{"unknown field", strings.Replace(good, `"source"`, `"sauce"`, 1), `unknown field "sauce"`},
		{"two values", strings.TrimSuffix(good, "\n") + " {}\n", "line 3: bad dataset record: more than one JSON value"},
		{"nll", set("nll", "9"), "nll 9 does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := lines[0] + lines[1] + c.third + lines[2]
			_, err := ReadJSONL(strings.NewReader(in))
			if !errors.Is(err, ErrBadRecord) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadRecord mentioning %q", err, c.want)
			}
		})
	}
	// A missing final newline is fine; CRLF line ends are fine.
	in := strings.ReplaceAll(buf.String(), "\n", "\r\n")
	if got, err := ReadJSONL(strings.NewReader(strings.TrimSuffix(in, "\r\n"))); err != nil || len(got) != 3 {
		t.Fatalf("CRLF file without a final newline: %d records, %v", len(got), err)
	}
}

func TestRecordForAnotherSpace(t *testing.T) {
	s := storiesSpace(t)
	_, d := synthData(t, s, 1, 3)
	other := llamaSpace(t, 5)
	other.ModelID = s.ModelID
	if err := d[0].CheckSpace(other); !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("record of stories260K in a llama-shaped space: err = %v", err)
	}
	other = s
	other.ModelID = "babyllama"
	if err := d[0].CheckSpace(other); !errors.Is(err, ErrMismatch) {
		t.Fatalf("record of another model id: err = %v", err)
	}
	if _, err := Train(t.Context(), other, append(d, d...), DefaultTrainConfig()); err == nil {
		t.Fatal("Train on records of another model: no error")
	}
	bad := d[0]
	bad.Perplexity = 0
	path := filepath.Join(t.TempDir(), "x.jsonl")
	if err := (Dataset{bad}).Save(path); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("saving a zero perplexity: err = %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a failed Save left a file")
	}
}
