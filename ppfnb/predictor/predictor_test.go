package predictor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// quickConfig trains in about a second on the 5-layer space.
func quickConfig(arch Arch) TrainConfig {
	cfg := DefaultTrainConfig()
	cfg.Arch, cfg.MaxEpochs, cfg.Patience = arch, 120, 20
	return cfg
}

var trained = struct {
	sync.Once
	p    *Predictor
	test Dataset
	err  error
}{}

// trainedStories is a predictor trained on 800 synthetic records of
// stories260K's space, and 300 held-out records; trained once per run.
func trainedStories(t *testing.T) (*Predictor, Dataset) {
	t.Helper()
	trained.Do(func() {
		s := storiesSpace(t)
		_, d := synthData(t, s, 1100, 1)
		train, test := d.Split(300.0/1100, 2)
		trained.test = test
		trained.p, trained.err = Train(context.Background(), s, train, DefaultTrainConfig())
	})
	if trained.err != nil {
		t.Fatal(trained.err)
	}
	return trained.p, trained.test
}

// TestLearnsSynthetic: trained with the defaults on 800 policies of the
// synthetic task (log-perplexity from 1.8 to about 11, noise 0.01), the
// predictor ranks 300 held-out ones with Spearman >= 0.999 (>= 0.95
// within each 0.1-wide ratio bucket of 20 or more) and errs by at most
// 0.05 in log-perplexity on average (measured: 0.03).
func TestLearnsSynthetic(t *testing.T) {
	p, test := trainedStories(t)
	rep, err := p.Evaluate(test, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("epochs %d (best %d)\n%s", p.Summary().Epochs, p.Summary().BestEpoch, rep)
	if o := rep.Overall; o.Spearman < 0.999 || o.Kendall < 0.97 || o.MAE > 0.05 {
		t.Fatalf("held-out Spearman %.4f, Kendall %.4f, MAE %.4f: want >= 0.999, >= 0.97, <= 0.05", o.Spearman, o.Kendall, o.MAE)
	}
	for _, b := range rep.Buckets {
		if b.Metrics.N >= 20 && b.Metrics.Spearman < 0.95 {
			t.Errorf("ratios [%.1f, %.1f): Spearman %.4f over %d policies, want >= 0.95", b.Lo, b.Hi, b.Metrics.Spearman, b.Metrics.N)
		}
	}
}

// TestMLPLearns: the plain MLP also learns the task.
func TestMLPLearns(t *testing.T) {
	s := storiesSpace(t)
	_, d := synthData(t, s, 700, 4)
	train, test := d.Split(200.0/700, 2)
	p, err := Train(context.Background(), s, train, quickConfig(MLPArch()))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Evaluate(test, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Overall; o.Spearman < 0.99 {
		t.Fatalf("MLP held-out Spearman %.4f, want >= 0.99\n%s", o.Spearman, rep)
	}
}

func TestTrainDeterministic(t *testing.T) {
	s := storiesSpace(t)
	_, d := synthData(t, s, 200, 5)
	cfg := quickConfig(DefaultTrainConfig().Arch)
	cfg.MaxEpochs = 10
	a, err := Train(context.Background(), s, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), s, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.net.params {
		if a.net.params[i] != b.net.params[i] {
			t.Fatalf("parameter %d differs between two trainings of one seed: %v and %v", i, a.net.params[i], b.net.params[i])
		}
	}
	cfg.Seed++
	c, _ := Train(context.Background(), s, d, cfg)
	if c.net.params[0] == a.net.params[0] {
		t.Fatal("another seed gave the same first weight")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, s, d, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled training: err = %v", err)
	}
}

func TestGradient(t *testing.T) {
	// The backward pass against central differences, for both kinds.
	s := storiesSpace(t)
	_, d := synthData(t, s, 20, 6)
	for _, arch := range []Arch{CNNArch(1), {Kind: "cnn", Channels: []int{4, 3}, Kernel: 3, Hidden: []int{5}}, MLPArch()} {
		cfg := quickConfig(arch)
		cfg.MaxEpochs = 3
		p, err := Train(context.Background(), s, d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := p.net
		p.fill(d[3].Policy)
		grad := make([]float64, len(n.params))
		n.forward(p.w)
		n.backward(p.w, n.layout(grad), 1)
		for i := 0; i < len(n.params); i += 7 {
			old := n.params[i]
			n.params[i] = old + 1e-6
			up := n.forward(p.w)
			n.params[i] = old - 1e-6
			down := n.forward(p.w)
			n.params[i] = old
			if num := (up - down) / 2e-6; math.Abs(num-grad[i]) > 1e-5*max(1, math.Abs(num)) {
				t.Fatalf("%s: parameter %d: gradient %v, central difference %v", arch.Kind, i, grad[i], num)
			}
		}
	}
}

func TestSaveLoad(t *testing.T) {
	p, test := trainedStories(t)
	s := p.Space()
	path := filepath.Join(t.TempDir(), "predictor.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range test {
		a, _ := p.Score(r.Policy)
		b, err := q.Score(r.Policy)
		if err != nil || a != b {
			t.Fatalf("score %v before saving, %v (%v) after loading", a, b, err)
		}
	}
	if q.Summary().BestEpoch != p.Summary().BestEpoch || q.Arch().Kind != p.Arch().Kind {
		t.Fatalf("summary or architecture changed: %+v", q.Summary())
	}

	other := s
	other.ModelID = "babyllama-tok105"
	if _, err := Load(path, other); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), `model "stories260K", not "babyllama-tok105"`) {
		t.Fatalf("loading for another model: err = %v", err)
	}
	deeper := llamaSpace(t, 6)
	deeper.ModelID = s.ModelID
	if _, err := Load(path, deeper); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "5 layers") {
		t.Fatalf("loading for another layer count: err = %v", err)
	}
	minimums := s
	minimums.Layers = append([]LayerSpace(nil), s.Layers...)
	minimums.Layers[2].MinMLPUnits = 0
	if _, err := Load(path, minimums); !errors.Is(err, ErrMismatch) {
		t.Fatalf("loading for other minimums: err = %v", err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	bad := map[string][]byte{
		"version": edit(func(m map[string]any) { m["version"] = 2 }),
		"format":  edit(func(m map[string]any) { m["format"] = "ppf-agent" }),
		"layers":  edit(func(m map[string]any) { m["layers"] = 4 }),
		"weights": edit(func(m map[string]any) { w := m["weights"].([]any); m["weights"] = w[:len(w)-1] }),
		"shape": edit(func(m map[string]any) {
			w := m["weights"].([]any)[0].(map[string]any)
			w["data"] = w["data"].([]any)[1:]
		}),
		"norm":     edit(func(m map[string]any) { m["norm"].(map[string]any)["out_std"] = 0 }),
		"unknown":  edit(func(m map[string]any) { m["extra"] = 1 }),
		"truncate": b[:len(b)/2],
	}
	for name, data := range bad {
		_, err := Decode(bytes.NewReader(data))
		if err == nil {
			t.Errorf("%s: a bad file was accepted", name)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := Decode(bytes.NewReader(bad["version"])); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("version 2: err = %v", err)
	}
}

func TestScoreChecksPolicy(t *testing.T) {
	p, _ := trainedStories(t)
	s := p.Space()
	if _, err := p.Score(Policy{Layers: s.Dense().Layers[:4]}); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("4-layer policy: err = %v", err)
	}
	bad := s.Dense()
	bad.Layers[1].MLPUnits = 173
	if _, err := p.Score(bad); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("173 of 172 channels: err = %v", err)
	}
	u, _ := s.Uniform(0.3)
	a, _ := p.Score(u)
	h, m := s.Fractions(u)
	b, err := p.ScoreFractions(h, m, s.Ratio(u))
	if err != nil || a != b {
		t.Fatalf("Score %v, ScoreFractions %v (%v)", a, b, err)
	}
	out := make([]float64, 2)
	if err := p.ScoreBatch([]Policy{u, s.Dense()}, out); err != nil || out[0] != a {
		t.Fatalf("ScoreBatch %v (%v), want %v first", out, err, a)
	}
	c := p.Clone()
	if y, _ := c.Score(u); y != a {
		t.Fatalf("clone scores %v, want %v", y, a)
	}
}

func TestArchNamed(t *testing.T) {
	for _, name := range ArchNames {
		a, err := ArchNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if a, _ := ArchNamed("cnn"); !reflect.DeepEqual(a, DefaultTrainConfig().Arch) {
		t.Errorf("cnn is %+v, the default %+v", a, DefaultTrainConfig().Arch)
	}
	if _, err := ArchNamed("transformer"); err == nil || !strings.Contains(err.Error(), "use cnn, cnn3 or mlp") {
		t.Errorf("an unknown name: %v", err)
	}
}
