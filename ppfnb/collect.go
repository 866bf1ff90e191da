package ppfnb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ppfkit/ppf/native/prune"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// CollectOptions sets a collection of measured policies. The policy of
// sample k depends only on (Seed, k), the evaluator's model and its
// calibration, never on the shard that measures it or on what was
// measured before: shards of one seed merge into the single run.
type CollectOptions struct {
	Samples int    // samples of the whole collection, all shards together
	Seed    uint64 // fixes every sample's policy

	// Shard and Shards: this run measures the samples k with
	// k mod Shards == Shard. Shards 0 means 1.
	Shard, Shards int

	// The ratios drawn, uniformly; 0 and 0 mean DefaultRatioMin and
	// DefaultRatioMax (capped at what the model's minimums allow).
	RatioMin, RatioMax float64

	// BaselineShare is the share of samples taken around a baseline's
	// policy; 0 means 0.5, negative none. Spread is SamplePolicies' for the
	// others; 0 means 1.5.
	BaselineShare float64
	Spread        float64

	// Log, when not nil, receives one-line notices (a repaired torn line).
	Log func(msg string)
	// Progress, when not nil, is called after each sample of this shard.
	Progress func(done, total int)
}

// The default ratio range of a collection: a little wider than the
// experiment's ratios 0.1 to 0.5 and the agent's range, so that the
// predictor is not asked to extrapolate at the edges.
const (
	DefaultRatioMin = 0.02
	DefaultRatioMax = 0.65
)

// baselineMethods are the baselines whose allocations seed samples.
// wanda-sp allocates exactly as uniform (it differs only in which units
// it keeps, which the evaluator's units decide here), so it appears as
// uniform; shortgpt drops whole layers at multiples of 1/layers, a
// different family the agent never proposes.
var baselineMethods = []string{prune.MethodUniform, prune.MethodOWL, prune.MethodFLAP, prune.MethodRandom}

func (o CollectOptions) withDefaults(s predictor.Space) (CollectOptions, error) {
	if o.Shards == 0 {
		o.Shards = 1
	}
	if o.RatioMin == 0 && o.RatioMax == 0 {
		o.RatioMin, o.RatioMax = DefaultRatioMin, DefaultRatioMax
	}
	o.RatioMax = min(o.RatioMax, s.MaxRatio()-0.01)
	if o.BaselineShare == 0 {
		o.BaselineShare = 0.5
	}
	if o.Spread == 0 {
		o.Spread = 1.5
	}
	switch {
	case o.Samples < 1:
		return o, fmt.Errorf("collect %d samples: ask for at least one", o.Samples)
	case o.Shards < 1 || o.Shard < 0 || o.Shard >= o.Shards:
		return o, fmt.Errorf("shard %d of %d: the shard index runs from 0 to the shard count minus one (shards 0/4 ... 3/4)", o.Shard, o.Shards)
	case !(o.RatioMin >= 0 && o.RatioMin <= o.RatioMax && o.RatioMax < 1):
		return o, fmt.Errorf("ratios [%v, %v]: want 0 <= min <= max < %.3g (this model's reach)", o.RatioMin, o.RatioMax, s.MaxRatio())
	}
	return o, nil
}

// SamplePolicy returns sample k's policy and its source tag
// ("<how>#<k>", see SampleIndex). A share of samples (BaselineShare) start
// from a baseline's allocation at a random ratio (uniform, OWL, FLAP or
// random, equally often) and take 0 to 5 random budget-keeping moves
// (uniform+3#k: three moves); the rest come from
// predictor.Space.SamplePolicies (sampled#k), from near-uniform to very
// uneven. The first kind puts many points where good policies are; the
// second keeps the predictor honest everywhere else.
func SamplePolicy(e *Evaluator, opt CollectOptions, k int) (predictor.Policy, string, error) {
	opt, err := opt.withDefaults(e.Space)
	if err != nil {
		return predictor.Policy{}, "", err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x636f6c6c00000000^uint64(k))) // "coll" | k
	ratio := opt.RatioMin + (opt.RatioMax-opt.RatioMin)*rng.Float64()
	if rng.Float64() >= opt.BaselineShare {
		ps, err := e.Space.SamplePolicies(1, ratio, ratio, opt.Spread, rng.Uint64())
		if err != nil {
			return predictor.Policy{}, "", err
		}
		return ps[0], fmt.Sprintf("sampled#%d", k), nil
	}
	method := baselineMethods[rng.IntN(len(baselineMethods))]
	p, err := e.BaselinePolicy(method, ratio, rng.Uint64())
	if err != nil {
		return predictor.Policy{}, "", fmt.Errorf("sample %d: %w", k, err)
	}
	moves := rng.IntN(6)
	mu := newMutator(e.Space)
	done := 0
	for try := 0; done < moves && try < 4*moves; try++ {
		if q, ok := mu.mutate(rng, p, ratio); ok {
			p, done = q, done+1
		}
	}
	src := method
	if done > 0 {
		src += "+" + strconv.Itoa(done)
	}
	return p, fmt.Sprintf("%s#%d", src, k), nil
}

// SampleIndex returns the sample index k of a collected record's source
// tag ("flap+2#17" is sample 17), and false for records made otherwise
// (search, agent).
func SampleIndex(source string) (int, bool) {
	i := strings.LastIndexByte(source, '#')
	if i < 0 {
		return 0, false
	}
	k, err := strconv.Atoi(source[i+1:])
	return k, err == nil && k >= 0
}

// CollectResult says what a collection did.
type CollectResult struct {
	Path      string            `json:"path"`
	Shard     int               `json:"shard"`
	Shards    int               `json:"shards"`
	Total     int               `json:"total"`      // samples of this shard
	Resumed   int               `json:"resumed"`    // records found in the file and kept
	Measured  int               `json:"measured"`   // records measured by this run
	TornBytes int               `json:"torn_bytes"` // bytes of a torn last line removed on resume (0: none)
	Records   predictor.Dataset `json:"-"`          // the shard's records, old and new, in sample order
}

// Collect measures this shard's samples on the evaluator's search slice
// and appends each, as one JSON line, to the file at path. It resumes:
// the records already in the file are checked (model, slice, and that
// each is the policy its sample index draws, so a file of other settings
// is refused) and kept, and only the missing samples are measured.
//
// Each record is written with one write and fsync'd before the next
// measurement, so an interrupted run (cancelled ctx, Ctrl-C, kill) loses
// at most the sample in flight. A kill during a write can leave a torn
// last line without its newline: resuming removes it (reported through
// Log and CollectResult.TornBytes) and measures that sample again. Any
// other malformed line is an error naming the line.
//
// An existing file must be a dataset: every complete line a record, and
// a last line without its newline the start of one; anything else is
// refused before the file is touched. While it runs, Collect holds an
// advisory lock on the file (flock, on Unix systems): a second
// collection into the same file fails at once, saying so.
//
// When ctx is cancelled Collect returns what it has with ctx's error.
func Collect(ctx context.Context, e *Evaluator, path string, opt CollectOptions) (*CollectResult, error) {
	opt, err := opt.withDefaults(e.Space)
	if err != nil {
		return nil, err
	}
	res := &CollectResult{Path: path, Shard: opt.Shard, Shards: opt.Shards}
	for k := opt.Shard; k < opt.Samples; k += opt.Shards {
		res.Total++
	}
	// Open (or create) the file and lock it before reading: a second
	// collector on the same file is refused instead of measuring every
	// sample again into it.
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := lockFile(f); errors.Is(err, errLocked) {
		return nil, fmt.Errorf("another collector is writing %s (it holds the file's lock); wait for it to finish, or write to another file (ppf: --out)", path)
	} else if err != nil {
		return nil, err
	}
	fail := func(err error) (*CollectResult, error) {
		if created {
			os.Remove(path) // the empty file this run made
		}
		return nil, err
	}
	old, keep, torn, err := readForResume(f, path)
	if err != nil {
		return fail(err)
	}
	if len(old) > res.Total {
		return fail(fmt.Errorf("%s holds %d records, more than the %d samples of shard %d/%d of a %d-sample collection; ask for more samples or use another file",
			path, len(old), res.Total, opt.Shard, opt.Shards, opt.Samples))
	}
	if err := e.CheckDataset(old); err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	for j, r := range old {
		k := opt.Shard + j*opt.Shards
		if idx, ok := SampleIndex(r.Source); !ok || idx != k {
			return fail(fmt.Errorf("%s line %d: source %q, expected sample %d of shard %d/%d: the file was collected with other shard settings (Shard, Shards; ppf: --shard) or is not a collection; use those settings or another file",
				path, j+1, r.Source, k, opt.Shard, opt.Shards))
		}
		p, _, err := SamplePolicy(e, opt, k)
		if err != nil {
			return fail(err)
		}
		if policyKey(p) != policyKey(r.Policy) {
			return fail(fmt.Errorf("%s line %d: sample %d's policy is not the one seed %d draws: the file was collected with another seed, ratio range or calibration; use those settings or another file",
				path, j+1, k, opt.Seed))
		}
	}
	// Only now, with every complete line a record of this collection, is
	// a torn last line cut off.
	if torn > 0 {
		if err := f.Truncate(keep); err != nil {
			return nil, fmt.Errorf("%s: removing a torn last line: %w", path, err)
		}
		res.TornBytes = torn
		if opt.Log != nil {
			opt.Log(fmt.Sprintf("%s: removed a torn last line (%d bytes, from an interrupted write); its sample is measured again", path, torn))
		}
	}
	res.Resumed, res.Records = len(old), old

	for j := len(old); j < res.Total; j++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		k := opt.Shard + j*opt.Shards
		p, src, err := SamplePolicy(e, opt, k)
		if err != nil {
			return res, err
		}
		rec, err := e.Record(ctx, p, src)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, fmt.Errorf("sample %d (%s): %w", k, src, err)
		}
		if err := writeRecord(f, rec); err != nil {
			return res, fmt.Errorf("%s: %w", path, err)
		}
		res.Records = append(res.Records, rec)
		res.Measured++
		if opt.Progress != nil {
			opt.Progress(j+1, res.Total)
		}
	}
	return res, f.Close()
}

// errLocked says that another process holds a collection file's lock.
var errLocked = errors.New("locked")

// readForResume reads the records of the collection file f (named path).
// A last line without its newline is a torn write: its length is
// returned with the length keep of the complete lines before it, and the
// caller cuts it off once the rest is known to be its collection. A file
// that is not a dataset (any complete line not a valid record, or a lone
// fragment that is not the start of one) is an error, and nothing is
// changed.
func readForResume(f *os.File, path string) (d predictor.Dataset, keep int64, torn int, err error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, 0, err
	}
	notDataset := func(why string) error {
		return fmt.Errorf("%s is not a dataset written by ppf collect (%s); it was left untouched: give a new file (ppf: --out), or a collection to resume", path, why)
	}
	keep = int64(len(b))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		k := bytes.LastIndexByte(b, '\n') + 1
		frag := b[k:]
		// A torn write is the start of a record: JSON text that begins as
		// every record does.
		const start = `{"model_id":`
		n := min(len(frag), len(start))
		if string(frag[:n]) != start[:n] || !utf8.Valid(frag) || bytes.IndexByte(frag, 0) >= 0 {
			return nil, 0, 0, notDataset(fmt.Sprintf("its last line, %q, is neither a record nor the start of one", head(frag)))
		}
		keep, torn = int64(k), len(frag)
		b = b[:k]
	}
	d, err = predictor.ReadJSONL(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, notDataset(err.Error())
	}
	return d, keep, torn, nil
}

func head(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return strings.ToValidUTF8(string(b), "?") + "..."
}

// writeRecord appends r as one line with a single write, then syncs.
func writeRecord(f *os.File, r predictor.Record) error {
	if err := r.Check(); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return err
	}
	return f.Sync()
}
