package prune

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/ppfkit/ppf/native"
)

// handModel is one layer with hand-set weights: Dim 2, 4 query heads of
// width 2 over 2 key/value heads (KV group 0 = heads 0-1 = columns 0-3 of
// o, group 1 = heads 2-3 = columns 4-7), 3 MLP channels; and hand-set
// calibration rows for every tap.
func handModel() (*native.Model, *Stats) {
	m := &native.Model{Config: native.Config{Dim: 2, HiddenDim: 3, NumLayers: 1, NumHeads: 4, NumKVHeads: 2, HeadDim: 2, VocabSize: 3, SeqLen: 8, RopeTheta: 10000, NormEps: 1e-5}}
	m.Layers = []native.Layer{{
		NumHeads: 4, NumKVHeads: 2, HiddenDim: 3,
		AttnNorm: []float32{1, 1}, MLPNorm: []float32{1, 1},
		Wq:   []float32{1, 0, 1, 0, 1, 0, 1, 0, 0, -1, 0, -1, 0, -1, 0, -1}, // (8, 2): group 0 rows [1 0], group 1 rows [0 -1]
		Wk:   []float32{0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0},                     // (4, 2)
		Wv:   []float32{1, 1, 1, 1, 1, 1, 1, 1},                             // (4, 2)
		Wo:   []float32{1, 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 1, 1, 0, -1},    // (2, 8)
		Gate: []float32{1, 0, 0, 1, 1, 1},                                   // (3, 2)
		Up:   []float32{0, -1, 1, 0, 0, 0},                                  // (3, 2)
		Down: []float32{1, 2, 0, 1, 0, -1},                                  // (2, 3)
	}}
	m.Embedding = make([]float32, 6)
	m.Output, m.FinalNorm = m.Embedding, []float32{1, 1}
	m.SharedClassifier = true
	ls := LayerStats{AttnIn: newMoments(2), AttnOut: newMoments(8), MLPIn: newMoments(2), DownIn: newMoments(3)}
	ls.AttnIn.add([]float32{1, 2, 3, -2}, 2)
	ls.AttnOut.add([]float32{1, 1, 2, 0, 0, 0, 3, 1, 3, 1, 0, 0, 2, 2, -1, 1}, 8)
	ls.MLPIn.add([]float32{2, 1, 0, 1}, 2)
	ls.DownIn.add([]float32{1, 0, 4, 3, 0, 0}, 3)
	return m, &Stats{Tokens: 2, Layers: []LayerStats{ls}}
}

// The scores of the hand model, worked out by hand:
//
//	input norms (√(Σx²/N)): attn in [√5, 2]; o in [√5, 1, √2, 0, √2, √2, √5, 1];
//	mlp in [√2, 1]; down in [√5, 0, 2√2]
//	variances (N-1): o in [2, 0, 2, 0, 2, 2, 8, 0]; down in [2, 0, 8]
//	fluctuation, group 0: 2·1 + 0 + 2·0 + 0 = 2; group 1: 2·1 + 2·1 + 8·4 + 0 = 36
//	wanda-sp, group 0: o (√5+1) + q 4·√5 + k 2·(√5/2+1) + v 2·(√5+2) = 8√5 + 7
//	          group 1: o (2√2+2√5+1) + q 4·2 + k 0 + v 2·(√5+2) = 4√5 + 2√2 + 13
//	magnitude, groups: 4+2+4+3 = 13 and 4+0+4+5 = 13
//	channels, fluctuation: 2·2 = 4, 0·4 = 0, 8·1 = 8
//	          wanda-sp: √2 + 1 + 2√5, 1 + √2 + 0, (√2+1) + 0 + 2√2
//	          magnitude: 1+1+2 = 4, 1+1+2 = 4, 2+0+1 = 3
func TestScoresByHand(t *testing.T) {
	m, st := handModel()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	s5, s2 := math.Sqrt(5), math.Sqrt(2)
	want := map[string][2][]float64{
		ScoreFluctuation: {{2, 36}, {4, 0, 8}},
		ScoreWandaSP:     {{8*s5 + 7, 4*s5 + 2*s2 + 13}, {s2 + 1 + 2*s5, 1 + s2, 3*s2 + 1}},
		ScoreMagnitude:   {{13, 13}, {4, 4, 3}},
	}
	for kind, w := range want {
		sc, err := ComputeScores(m, st, kind)
		if err != nil {
			t.Fatal(err)
		}
		for k, got := range [][]float64{sc.Groups[0], sc.Channels[0]} {
			for i := range got {
				if math.Abs(got[i]-w[k][i]) > 1e-12 {
					t.Errorf("%s: unit kind %d scores %v, want %v", kind, k, got, w[k])
					break
				}
			}
		}
	}
	lo := &st.Layers[0].AttnOut
	if lo.Mean(0) != 2 || lo.Var(0) != 2 || math.Abs(lo.Norm(0)-s5) > 1e-15 || lo.Var(6) != 8 {
		t.Errorf("moments of column 0: mean %v var %v norm %v; column 6 var %v", lo.Mean(0), lo.Var(0), lo.Norm(0), lo.Var(6))
	}
}

// FLAP's compensation by hand: removing KV group 0 (o columns 0-3, means
// [2, 1, 1, 0]) adds Wo[:, 0:4]·means = [1·2 + 1·0, 1·1] = [2, 1]; removing
// channel 0 (mean 2) adds Down[:, 0]·2 = [2, 2].
func TestCompensationByHand(t *testing.T) {
	m, st := handModel()
	pol := Policy{Layers: []LayerPolicy{{HeadUnits: 1, MLPUnits: 2}}}
	p, err := PlanFor(m, st, pol, Options{Score: ScoreFluctuation, Bias: BiasOn})
	if err != nil {
		t.Fatal(err)
	}
	// fluctuation keeps group 1 (36 > 2) and channels 0 and 2 (4, 8 > 0)
	if len(p.Groups[0]) != 1 || p.Groups[0][0] != 1 || len(p.Channels[0]) != 2 || p.Channels[0][0] != 0 || p.Channels[0][1] != 2 {
		t.Fatalf("kept groups %v channels %v, want [1] and [0 2]", p.Groups[0], p.Channels[0])
	}
	if b := p.AttnBias[0]; b[0] != 2 || b[1] != 1 {
		t.Errorf("attention bias %v, want [2 1]", b)
	}
	if p.MLPBias[0] != nil && (p.MLPBias[0][0] != 0 || p.MLPBias[0][1] != 0) {
		t.Errorf("mlp bias %v, want zeros (channel 1's mean input is 0)", p.MLPBias[0])
	}
	p, err = PlanFor(m, st, Policy{Layers: []LayerPolicy{{HeadUnits: 2, MLPUnits: 2}}}, Options{Score: ScoreMagnitude, Bias: BiasOn})
	if err != nil {
		t.Fatal(err)
	}
	// magnitude keeps channels 0 and 1 (4, 4 > 3): channel 2 (mean 2) goes
	if b := p.MLPBias[0]; p.Channels[0][1] != 1 || b[0] != 0 || b[1] != -2 {
		t.Errorf("channels %v, mlp bias %v, want [0 1] and [0 -2]", p.Channels[0], b)
	}
	if p.AttnBias[0] != nil {
		t.Errorf("attention bias %v with every group kept", p.AttnBias[0])
	}
}

// Calibrate's statistics equal those computed directly from the rows the
// forward pass shows.
func TestCalibrateMatchesDirect(t *testing.T) {
	m := smallModel(10)
	tokens := randomTokens(96, m.VocabSize, 10)
	st, err := Calibrate(context.Background(), m, tokens, CalibOptions{SeqLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if st.Tokens != 96 || st.Windows != 3 {
		t.Errorf("tokens %d windows %d", st.Tokens, st.Windows)
	}
	var rows [][]float32 // layer 2's o input, every token
	var cosSum float64
	var in []float32
	s := native.NewState(m, 32, 32)
	s.Observe = func(layer int, tap native.Tap, r []float32, width int) {
		if layer != 2 {
			return
		}
		switch tap {
		case native.TapAttnOutInput:
			for k := 0; k < len(r); k += width {
				rows = append(rows, append([]float32(nil), r[k:k+width]...))
			}
		case native.TapBlockInput:
			in = append(in[:0], r...)
		case native.TapBlockOutput:
			for k := 0; k < len(r); k += width {
				c, _ := cosine(in[k:k+width], r[k:k+width])
				cosSum += c
			}
		}
	}
	for w := 0; w < 3; w++ {
		if _, err := s.Forward(context.Background(), tokens[w*32:(w+1)*32], 0); err != nil {
			t.Fatal(err)
		}
	}
	mo := &st.Layers[2].AttnOut
	for _, c := range []int{0, 5, 17, 31} {
		var mean, ss float64
		for _, r := range rows {
			mean += float64(r[c]) / float64(len(rows))
		}
		for _, r := range rows {
			ss += (float64(r[c]) - mean) * (float64(r[c]) - mean)
		}
		if v := ss / float64(len(rows)-1); math.Abs(mo.Mean(c)-mean) > 1e-9 || math.Abs(mo.Var(c)-v) > 1e-9*max(1, v) {
			t.Errorf("column %d: mean %v var %v, direct %v %v", c, mo.Mean(c), mo.Var(c), mean, v)
		}
	}
	if want := 1 - cosSum/96; math.Abs(st.Layers[2].Influence()-want) > 1e-9 {
		t.Errorf("influence %v, direct %v", st.Layers[2].Influence(), want)
	}
}

func TestCalibrationErrors(t *testing.T) {
	m := smallModel(11)
	if _, err := Calibrate(context.Background(), m, randomTokens(20, m.VocabSize, 1), CalibOptions{SeqLen: 32}); !errors.Is(err, ErrCalibration) {
		t.Errorf("20 tokens for windows of 32: %v", err)
	}
	if _, _, err := Split(make([]int, 100), 100); !errors.Is(err, ErrCalibration) {
		t.Errorf("split leaving nothing: %v", err)
	}
	st := calibrate(t, m, randomTokens(64, m.VocabSize, 2))
	c := smallConfig()
	c.NumLayers = 3
	if _, err := NewPlan(randomModelOf(c), st, Options{Method: MethodFLAP, Ratio: 0.2}); !errors.Is(err, ErrCalibration) {
		t.Errorf("statistics of another model: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Calibrate(ctx, m, randomTokens(64, m.VocabSize, 1), CalibOptions{SeqLen: 32}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// FLAP keeps channels in order of standardised score across layers: no
// removed channel outranks a kept one (beyond each layer's minimum).
func TestFLAPThresholdIsGlobal(t *testing.T) {
	m := smallModel(12)
	st := calibrate(t, m, randomTokens(256, m.VocabSize, 12))
	p, err := NewPlan(m, st, Options{Method: MethodFLAP, Ratio: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	minKept, maxRemoved := math.Inf(1), math.Inf(-1)
	for i := range m.Layers {
		l := &m.Layers[i]
		z := standardize(columnScores(l.Down, m.Dim, l.HiddenDim, &st.Layers[i].DownIn, ScoreFluctuation))
		kept := make([]bool, len(z))
		for _, c := range p.Channels[i] {
			kept[c] = true
		}
		best := topK(z, 1)[0]
		for c, v := range z {
			if kept[c] && c != best {
				minKept = min(minKept, v)
			} else if !kept[c] {
				maxRemoved = max(maxRemoved, v)
			}
		}
	}
	if maxRemoved > minKept {
		t.Errorf("a removed channel scores %v, above a kept one's %v", maxRemoved, minKept)
	}
	h, u := p.Policy.Ratios(ShapeOf(m))
	t.Logf("flap 0.4: head ratios %v, mlp ratios %.3v", h, u)
}
