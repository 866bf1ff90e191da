package ppfnb

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// testEvaluator is stories260K with a short search slice (1024 tokens,
// 4 windows of 256): a measurement takes a few hundredths of a second.
var testEvaluator = sync.OnceValues(func() (*Evaluator, error) {
	return NewEvaluator(context.Background(), EvaluatorOptions{Model: "stories260K", SearchTokens: 1024})
})

func evaluator(t testing.TB) *Evaluator {
	t.Helper()
	e, err := testEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// sameRecords compares two datasets field by field, except the seconds a
// measurement took.
func sameRecords(t *testing.T, what string, got, want predictor.Dataset) {
	t.Helper()
	norm := func(d predictor.Dataset) []string {
		out := make([]string, len(d))
		for i, r := range d {
			r.Seconds = 0
			b, _ := json.Marshal(r)
			out[i] = string(b)
		}
		return out
	}
	g, w := norm(got), norm(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d records, want %d", what, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: record %d differs:\n got %s\nwant %s", what, i+1, g[i], w[i])
		}
	}
}

const collectN = 12

// reference is an uninterrupted collection of collectN samples.
var reference = sync.OnceValues(func() (predictor.Dataset, error) {
	e, err := testEvaluator()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(os.TempDir(), "ppf-collect-reference.jsonl")
	os.Remove(path)
	defer os.Remove(path)
	if _, err := Collect(context.Background(), e, path, CollectOptions{Samples: collectN, Seed: 3}); err != nil {
		return nil, err
	}
	return predictor.LoadDataset(path)
})

func referenceData(t *testing.T) predictor.Dataset {
	t.Helper()
	d, err := reference()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The sample mix is deterministic and covers both kinds of samples; every
// policy meets the ratio it was drawn at within half a channel.
func TestSamplePolicies(t *testing.T) {
	e := evaluator(t)
	kinds := map[string]int{}
	for k := range 200 {
		p, src, err := SamplePolicy(e, CollectOptions{Samples: 200, Seed: 1}, k)
		if err != nil {
			t.Fatal(err)
		}
		q, src2, _ := SamplePolicy(e, CollectOptions{Samples: 200, Seed: 1}, k)
		if policyKey(p) != policyKey(q) || src != src2 {
			t.Fatalf("sample %d is not deterministic", k)
		}
		if idx, ok := SampleIndex(src); !ok || idx != k {
			t.Fatalf("sample %d tagged %q", k, src)
		}
		if err := e.Space.ValidatePolicy(p); err != nil {
			t.Fatal(err)
		}
		if r := e.Space.Ratio(p); r < DefaultRatioMin-0.01 || r > DefaultRatioMax+0.01 {
			t.Errorf("sample %d removes %v, outside the default range", k, r)
		}
		kind, _, _ := strings.Cut(src[:strings.IndexByte(src, '#')], "+")
		kinds[kind]++
	}
	for _, k := range []string{"sampled", "uniform", "owl", "flap", "random"} {
		if kinds[k] < 10 {
			t.Errorf("only %d samples of kind %s in 200: %v", kinds[k], k, kinds)
		}
	}
}

// A collection cancelled mid-way keeps every finished sample, and the
// resumed run ends with exactly the records of an uninterrupted one.
func TestCollectResumesAfterCancel(t *testing.T) {
	e, want := evaluator(t), referenceData(t)
	path := filepath.Join(t.TempDir(), "d.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := CollectOptions{Samples: collectN, Seed: 3, Progress: func(done, total int) {
		if done == 5 {
			cancel()
		}
	}}
	res, err := Collect(ctx, e, path, opt)
	if !errors.Is(err, context.Canceled) || res == nil || res.Measured != 5 {
		t.Fatalf("cancelled collection: %+v, %v; want 5 measured and context.Canceled", res, err)
	}
	d, err := predictor.LoadDataset(path)
	if err != nil || len(d) != 5 {
		t.Fatalf("after the cancel the file holds %d records (%v), want 5", len(d), err)
	}
	opt.Progress = nil
	res, err = Collect(context.Background(), e, path, opt)
	if err != nil || res.Resumed != 5 || res.Measured != collectN-5 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	got, err := predictor.LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "resumed", got, want)
	sameRecords(t, "returned", res.Records, want)
}

// A torn last line (a kill during a write) is reported, cut off and
// measured again; a malformed line elsewhere is an error naming it.
func TestCollectTornLine(t *testing.T) {
	e, want := evaluator(t), referenceData(t)
	dir := t.TempDir()
	var full strings.Builder
	if err := want[:7].WriteJSONL(&full); err != nil {
		t.Fatal(err)
	}
	var eighth strings.Builder
	want[7:8].WriteJSONL(&eighth)
	path := filepath.Join(dir, "torn.jsonl")
	torn := full.String() + eighth.String()[:eighth.Len()/2]
	os.WriteFile(path, []byte(torn), 0o644)
	var logged []string
	res, err := Collect(context.Background(), e, path, CollectOptions{Samples: collectN, Seed: 3, Log: func(m string) { logged = append(logged, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.TornBytes != eighth.Len()/2 || res.Resumed != 7 || len(logged) != 1 || !strings.Contains(logged[0], "torn") {
		t.Errorf("torn line: %+v, log %q", res, logged)
	}
	got, _ := predictor.LoadDataset(path)
	sameRecords(t, "after a torn line", got, want)

	lines := strings.SplitAfter(full.String(), "\n")
	lines[2] = `{"model_id": "stories260K", "policy": ` + "\n"
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
	if _, err := Collect(context.Background(), e, bad, CollectOptions{Samples: collectN, Seed: 3}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("corrupt line 3: %v", err)
	}
	lines[2] = "\n"
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
	if _, err := Collect(context.Background(), e, bad, CollectOptions{Samples: collectN, Seed: 3}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("empty line 3: %v", err)
	}
}

// A file collected with other settings is refused, not extended.
func TestCollectRefusesOtherSettings(t *testing.T) {
	e, want := evaluator(t), referenceData(t)
	path := filepath.Join(t.TempDir(), "d.jsonl")
	want[:4].Save(path)
	for _, tc := range []struct {
		opt  CollectOptions
		want string
	}{
		{CollectOptions{Samples: collectN, Seed: 4}, "another seed"},
		{CollectOptions{Samples: collectN, Seed: 3, Shard: 1, Shards: 2}, "other shard settings"},
		{CollectOptions{Samples: 2, Seed: 3}, "more than the 2 samples"},
		{CollectOptions{Samples: collectN, Seed: 3, Shard: 2, Shards: 2}, "shard index"},
	} {
		if _, err := Collect(context.Background(), e, path, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error mentioning %q", tc.opt, err, tc.want)
		}
	}
	other := slices.Clone(want[:2])
	other[1].ModelID = "babyllama-tok105"
	other.Save(path)
	if _, err := Collect(context.Background(), e, path, CollectOptions{Samples: collectN, Seed: 3}); !errors.Is(err, predictor.ErrMismatch) {
		t.Errorf("a record of another model: %v", err)
	}
	// The records say which units they kept; a flap collection is not
	// continued with Wanda-sp's units, and records from before units
	// were recorded are accepted.
	if want[0].Units != UnitsFLAP || want[0].Backend != "cpu" {
		t.Errorf("a record measured here says units %q, backend %q", want[0].Units, want[0].Backend)
	}
	other = slices.Clone(want[:2])
	other[1].Units = UnitsWanda
	if err := e.CheckDataset(other); err == nil || !strings.Contains(err.Error(), "record 2 kept wanda-sp units") {
		t.Errorf("a record of other units: %v", err)
	}
	other[1].Units = ""
	if err := e.CheckDataset(other); err != nil {
		t.Errorf("a record without units: %v", err)
	}
}

// Two shards of one seed, merged, are the single run.
func TestShardsMergeIntoOneRun(t *testing.T) {
	e, want := evaluator(t), referenceData(t)
	dir := t.TempDir()
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, "shard"+string(rune('0'+i))+".jsonl")
		res, err := Collect(context.Background(), e, f, CollectOptions{Samples: collectN, Seed: 3, Shard: i, Shards: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != collectN/3 {
			t.Errorf("shard %d of 3 has %d samples, want %d", i, res.Total, collectN/3)
		}
		files = append(files, f)
	}
	out := filepath.Join(dir, "merged.jsonl")
	res, err := MergeShards(out, []string{files[2], files[0], files[1]})
	if err != nil || res.Records != collectN || res.Missing != 0 {
		t.Fatalf("merge: %+v, %v", res, err)
	}
	got, err := predictor.LoadDataset(out)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "merged", got, want)

	if res, err := MergeShards(out, files); err != nil || res.Records != collectN {
		t.Errorf("merging again over an earlier merge's output: %+v, %v", res, err)
	}
	notData := filepath.Join(dir, "model.bin")
	os.WriteFile(notData, []byte("\x00\x01 weights"), 0o644)
	if _, err := MergeShards(notData, files); err == nil || !strings.Contains(err.Error(), "left untouched") {
		t.Errorf("merge over a non-dataset: %v", err)
	}
	if b, _ := os.ReadFile(notData); string(b) != "\x00\x01 weights" {
		t.Errorf("merge changed a non-dataset --out: %q", b)
	}
	if _, err := MergeShards(filepath.Join(dir, "m2.jsonl"), []string{files[0], files[0]}); err == nil || !strings.Contains(err.Error(), "sample 0 is in") {
		t.Errorf("duplicate shard: %v", err)
	}
	d, _ := predictor.LoadDataset(files[1])
	d[0].Units = UnitsWanda
	d.Save(files[1])
	if _, err := MergeShards(filepath.Join(dir, "m6.jsonl"), files); err == nil || !strings.Contains(err.Error(), "shards must share their units") {
		t.Errorf("mixed units: %v", err)
	}
	d[0].Units, d[0].ModelID = UnitsFLAP, "babyllama-tok105"
	d.Save(files[1])
	if _, err := MergeShards(filepath.Join(dir, "m3.jsonl"), files); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("mixed models: %v", err)
	}
	os.WriteFile(files[1], []byte(`{"model_id":"stories260K"`), 0o644)
	if _, err := MergeShards(filepath.Join(dir, "m4.jsonl"), files); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("torn shard: %v", err)
	}
	if res, err := MergeShards(filepath.Join(dir, "m5.jsonl"), files[:1]); err != nil || res.Missing != collectN-collectN/3-2 {
		t.Errorf("one shard of three: %+v, %v; want the other shards' samples below the largest index reported missing", res, err)
	}
}
