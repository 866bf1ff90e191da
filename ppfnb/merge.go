package ppfnb

import (
	"cmp"
	"fmt"
	"os"
	"slices"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// MergeResult says what MergeShards wrote.
type MergeResult struct {
	Out     string `json:"out"`
	Files   int    `json:"files"`
	Records int    `json:"records"`
	ModelID string `json:"model_id"`
	// Missing counts the sample indices below the largest one that no
	// file holds: shards not finished (resume them, then merge again).
	Missing int `json:"missing"`
}

// MergeShards reads the collection files of a sharded run (the outputs
// of Collect with Shard 0..n-1 and one seed) and writes one dataset to
// out, sorted by sample index: the file a single run with that seed
// would have written (the seconds aside). It refuses a record without a
// sample index, a sample found twice, records of different models or
// measured on different slices, and any malformed line (a shard killed
// mid-write: resume it with the same flags first, which repairs its torn
// line). out is written through a temporary file renamed into place; an
// existing out that is not a dataset is refused and left untouched.
func MergeShards(out string, inputs []string) (*MergeResult, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("merge: no shard files given; list the shard files (ppf collect --shard i/n writes them)")
	}
	type located struct {
		rec  predictor.Record
		k    int
		file string
		line int
	}
	// out is replaced: only by a new file or an earlier merge's output,
	// never a checkpoint or other file given by mistake.
	if fi, err := os.Stat(out); err == nil && (fi.IsDir() || fi.Size() > 0) {
		if _, err := predictor.LoadDataset(out); err != nil {
			return nil, fmt.Errorf("merge: the output %s exists and is not a dataset (%v); it was left untouched: give a new file, or an earlier merge's output to replace", out, err)
		}
	}
	var all []located
	seen := map[int]located{}
	res := &MergeResult{Out: out, Files: len(inputs)}
	tokens, units := -1, ""
	for _, in := range inputs {
		if sameFile(in, out) {
			return nil, fmt.Errorf("merge: the output %s is also an input; write the merged dataset to a new file", out)
		}
		d, err := predictor.LoadDataset(in)
		if err != nil {
			return nil, fmt.Errorf("merge: %w (a shard killed mid-write is repaired by resuming it with the same flags)", err)
		}
		for j, r := range d {
			k, ok := SampleIndex(r.Source)
			if !ok {
				return nil, fmt.Errorf("merge: %s line %d: source %q carries no sample index; only files written by ppf collect can be merged", in, j+1, r.Source)
			}
			if res.ModelID == "" {
				res.ModelID, tokens = r.ModelID, r.Tokens
			}
			if r.ModelID != res.ModelID {
				return nil, fmt.Errorf("merge: %s line %d: model %q, but earlier records are of %q; merge one model's shards at a time", in, j+1, r.ModelID, res.ModelID)
			}
			if units == "" {
				units = r.Units
			}
			if r.Units != "" && r.Units != units {
				return nil, fmt.Errorf("merge: %s line %d: %s units, but earlier records kept %s units; shards must share their units (ppf: --units)", in, j+1, r.Units, units)
			}
			if r.Tokens != tokens {
				return nil, fmt.Errorf("merge: %s line %d: measured on %d tokens, earlier records on %d; shards must share the slice settings", in, j+1, r.Tokens, tokens)
			}
			if prev, dup := seen[k]; dup {
				return nil, fmt.Errorf("merge: sample %d is in %s line %d and in %s line %d; each shard file must be given once, and shards must not overlap (the same shard count)",
					k, prev.file, prev.line, in, j+1)
			}
			l := located{rec: r, k: k, file: in, line: j + 1}
			seen[k] = l
			all = append(all, l)
		}
	}
	slices.SortFunc(all, func(a, b located) int { return cmp.Compare(a.k, b.k) })
	d := make(predictor.Dataset, len(all))
	for i, l := range all {
		d[i] = l.rec
	}
	if len(all) > 0 {
		res.Missing = all[len(all)-1].k + 1 - len(all)
	}
	res.Records = len(d)
	if err := d.Save(out); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return res, nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
