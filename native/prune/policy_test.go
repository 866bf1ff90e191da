package prune

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Every method's policy has one entry per layer, whole KV groups, at
// least the minimums, and its ratio within one channel's worth of the
// request; ShortGPT drops round(ratio × layers) layers.
func TestMethodsMeetRatio(t *testing.T) {
	m := smallModel(4)
	st := calibrate(t, m, randomTokens(256, m.VocabSize, 5))
	s := ShapeOf(m)
	tol := float64(s.ChannelParams()) / float64(s.Params())
	for _, method := range Methods() {
		for _, r := range []float64{0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7} {
			p, err := NewPlan(m, st, Options{Method: method, Ratio: r, Seed: 1})
			if err != nil {
				t.Fatalf("%s %v: %v", method, r, err)
			}
			if len(p.Policy.Layers) != len(m.Layers) || len(p.Groups) != len(m.Layers) || len(p.Channels) != len(m.Layers) {
				t.Fatalf("%s %v: policy of %d layers", method, r, len(p.Policy.Layers))
			}
			if err := p.Validate(m); err != nil {
				t.Errorf("%s %v: %v", method, r, err)
			}
			got := p.Policy.Ratio(s)
			want := r
			if method == MethodShortGPT {
				want = math.Floor(r*4+0.5+1e-9) / 4
			}
			if math.Abs(got-want) > tol+1e-12 {
				t.Errorf("%s: asked %v, achieved %v (tolerance %v)", method, r, got, tol)
			}
			for i, lp := range p.Policy.Layers {
				if !lp.Drop && (lp.HeadUnits < 1 || lp.MLPUnits < 1) {
					t.Errorf("%s %v layer %d: %+v breaks the minimums or the KV groups", method, r, i, lp)
				}
				if lp.Drop != (method == MethodShortGPT && lp.HeadUnits == 0) {
					t.Errorf("%s %v layer %d: %+v", method, r, i, lp)
				}
			}
		}
	}
}

func TestUniformIsUniform(t *testing.T) {
	m := smallModel(5)
	p, err := NewPlan(m, nil, Options{Method: MethodUniform, Ratio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for i, lp := range p.Policy.Layers {
		// 50% of 4 groups of 2 heads; 24 channels lose half of what is left to lose
		if lp.HeadUnits != 2 || lp.MLPUnits != 12 {
			t.Errorf("layer %d keeps %+v, want 2 groups and 12 channels", i, lp)
		}
	}
}

// ShortGPT on 5 layers: ratios 0.1..0.5 drop 1, 1, 2, 2, 3 layers, those
// of least influence.
func TestShortGPTRounding(t *testing.T) {
	c := smallConfig()
	c.NumLayers = 5
	s := ShapeOf(randomModelOf(c))
	st := &Stats{Layers: make([]LayerStats, 5)}
	for i, infl := range []float64{0.5, 0.1, 0.3, 0.2, 0.4} {
		st.Layers[i] = LayerStats{CosSum: 1 - infl, CosN: 1}
	}
	for _, tc := range []struct {
		ratio float64
		drop  []int
	}{{0.1, []int{1}}, {0.2, []int{1}}, {0.3, []int{1, 3}}, {0.4, []int{1, 3}}, {0.5, []int{1, 2, 3}}, {0.8, []int{1, 2, 3, 4}}} {
		p, err := shortGPTPolicy(s, st, tc.ratio)
		if err != nil {
			t.Fatal(err)
		}
		var drop []int
		for i, lp := range p.Layers {
			if lp.Drop {
				drop = append(drop, i)
			}
		}
		if !reflect.DeepEqual(drop, tc.drop) || math.Abs(p.Ratio(s)-float64(len(tc.drop))/5) > 1e-12 {
			t.Errorf("ratio %v drops %v (ratio %v), want %v", tc.ratio, drop, p.Ratio(s), tc.drop)
		}
	}
	if _, err := shortGPTPolicy(s, st, 0.95); !errors.Is(err, ErrUnreachable) {
		t.Errorf("dropping all 5 layers: %v", err)
	}
}

func TestUnreachableRatio(t *testing.T) {
	m := smallModel(6)
	st := calibrate(t, m, randomTokens(128, m.VocabSize, 6))
	for _, method := range Methods() {
		_, err := NewPlan(m, st, Options{Method: method, Ratio: 0.99})
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "ratio") {
			t.Errorf("%s at 0.99: %v, want ErrUnreachable", method, err)
		}
	}
	// with no minimums, 0.99 is within reach of the width methods
	if _, err := NewPlan(m, st, Options{Method: MethodFLAP, Ratio: 0.99, MinGroups: -1, MinChannels: -1}); err != nil {
		t.Errorf("flap at 0.99 without minimums: %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	m := smallModel(7)
	s := ShapeOf(m)
	good := Dense(s)
	if err := good.Validate(s); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(p *Policy)) Policy {
		p := Policy{Layers: append([]LayerPolicy(nil), good.Layers...)}
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name string
		p    Policy
		want string
	}{
		{"layer count", edit(func(p *Policy) { p.Layers = p.Layers[:3] }), "has 3 layers, the model 4"},
		{"too few groups", edit(func(p *Policy) { p.Layers[2].HeadUnits = 0 }), "fewer than the minimum"},
		{"too few channels", edit(func(p *Policy) { p.Layers[2].MLPUnits = 0 }), "fewer than the minimum"},
		{"too many channels", edit(func(p *Policy) { p.Layers[0].MLPUnits = 25 }), "but has 4 and 24"},
		{"too many groups", edit(func(p *Policy) { p.Layers[0].HeadUnits = 5 }), "keeps 5 key/value groups"},
		{"dropped but keeps", edit(func(p *Policy) { p.Layers[0].Drop = true }), "a dropped layer keeps 0"},
	} {
		err := tc.p.Validate(s)
		if !errors.Is(err, ErrBadPolicy) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadPolicy mentioning %q", tc.name, err, tc.want)
		}
	}
	for _, r := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, err := NewPlan(m, nil, Options{Method: MethodUniform, Ratio: r}); !errors.Is(err, ErrBadPolicy) || !strings.Contains(err.Error(), "[0, 1)") {
			t.Errorf("ratio %v: %v", r, err)
		}
	}
	if _, err := NewPlan(m, nil, Options{Method: "magic", Ratio: 0.1}); err == nil || !strings.Contains(err.Error(), "flap") {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := NewPlan(m, nil, Options{Method: MethodFLAP, Ratio: 0.1}); !errors.Is(err, ErrCalibration) {
		t.Errorf("flap without statistics: %v", err)
	}
	// a plan made for another model
	other := smallConfig()
	other.HiddenDim = 20
	p, err := NewPlan(randomModelOf(other), nil, Options{Method: MethodUniform, Ratio: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(m, p); !errors.Is(err, ErrBadPolicy) || !strings.Contains(err.Error(), "made for a model") {
		t.Errorf("plan of another model: %v", err)
	}
}

// Ratios and FromRatios invert each other on whole groups and channels;
// a policy survives JSON.
func TestRatiosRoundTrip(t *testing.T) {
	m := smallModel(8)
	s := ShapeOf(m)
	st := calibrate(t, m, randomTokens(128, m.VocabSize, 8))
	for _, method := range []string{MethodFLAP, MethodShortGPT, MethodOWL} {
		p, err := NewPlan(m, st, Options{Method: method, Ratio: 0.45})
		if err != nil {
			t.Fatal(err)
		}
		h, u := p.Policy.Ratios(s)
		back, err := FromRatios(s, h, u)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, p.Policy) {
			t.Errorf("%s: FromRatios(Ratios(p)) = %+v, want %+v", method, back, p.Policy)
		}
		b, err := json.Marshal(p.Policy)
		if err != nil {
			t.Fatal(err)
		}
		var q Policy
		if err := json.Unmarshal(b, &q); err != nil || !reflect.DeepEqual(q, p.Policy) {
			t.Errorf("%s: JSON round trip gave %+v (%v) from %s", method, q, err, b)
		}
	}
	if _, err := FromRatios(s, []float64{0, 0, 0, 1.2}, []float64{0, 0, 0, 0}); !errors.Is(err, ErrBadPolicy) {
		t.Errorf("ratio 1.2: %v", err)
	}
}

// Allocate keeps the differences between wished layer ratios and meets the
// global ratio.
func TestAllocateFollowsWishes(t *testing.T) {
	s := ShapeOf(smallModel(9))
	p, err := Allocate(s, 0.3, []float64{0, 0.25, 0.5, 0.75}, []float64{0.1, 0.2, 0.3, 0.4})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(p.Layers); i++ {
		if p.Layers[i].HeadUnits > p.Layers[i-1].HeadUnits || p.Layers[i].MLPUnits > p.Layers[i-1].MLPUnits {
			t.Errorf("layer %d keeps more than layer %d: %+v", i, i-1, p.Layers)
		}
	}
	if d := math.Abs(p.Ratio(s) - 0.3); d*float64(s.Params()) > float64(s.ChannelParams()) {
		t.Errorf("ratio %v, want 0.3", p.Ratio(s))
	}
}
