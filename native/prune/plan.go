package prune

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ppfkit/ppf/native"
)

// Allocation methods: how much to prune in each layer.
const (
	MethodUniform  = "uniform"  // the same ratio in every layer; magnitude scores within layers
	MethodWandaSP  = "wanda-sp" // the same ratio in every layer; Wanda-sp scores within layers
	MethodFLAP     = "flap"     // FLAP: one global threshold over standardised fluctuation scores; bias compensation
	MethodOWL      = "owl"      // OWL: per-layer ratios from outlier shares; Wanda-sp within layers
	MethodShortGPT = "shortgpt" // ShortGPT: drop the layers of lowest block influence
	MethodRandom   = "random"   // random per-layer ratios at the requested global ratio; Wanda-sp within layers
)

// Methods lists the allocation methods in the order of docs/pruning.md's table.
func Methods() []string {
	return []string{MethodUniform, MethodWandaSP, MethodOWL, MethodFLAP, MethodShortGPT, MethodRandom}
}

// BiasMode says whether removed units are compensated by a bias.
type BiasMode int

const (
	BiasAuto BiasMode = iota // on for FLAP, off for the other methods
	BiasOn
	BiasOff
)

// Options sets NewPlan and PlanFor.
type Options struct {
	Method string  // one of Methods(); "" in PlanFor
	Ratio  float64 // global pruning ratio in [0, 1): the fraction of Shape.Params removed

	// Score ranks units within layers: ScoreMagnitude, ScoreWandaSP or
	// ScoreFluctuation. "" means the method's own (see the Method
	// constants; PlanFor without a method: wanda-sp). Only uniform, owl
	// and random take another.
	Score string
	Bias  BiasMode

	// MinGroups and MinChannels are the least every kept layer keeps;
	// 0 means 1, a negative value means none.
	MinGroups, MinChannels int

	OutlierM float64 // OWL's M: a weight is an outlier above M times its layer's mean score; 0 means 5
	Lambda   float64 // OWL's λ: layer ratios span a band 2λ wide around the target; 0 means 0.08
	Seed     uint64  // random's seed
}

// Shape returns ShapeOf(m) with the options' minimums (MinGroups and
// MinChannels: 0 means 1, negative none).
func (o Options) Shape(m *native.Model) Shape {
	s := ShapeOf(m)
	s.MinGroups, s.MinChannels = minimum(o.MinGroups), minimum(o.MinChannels)
	return s
}

func minimum(v int) int {
	switch {
	case v == 0:
		return 1
	case v < 0:
		return 0
	}
	return v
}

// NeedsStats reports whether NewPlan needs calibration statistics for
// these options: every method but uniform, a score other than magnitude,
// or bias compensation asked for.
func (o Options) NeedsStats() bool {
	return o.Method != MethodUniform || (o.Score != "" && o.Score != ScoreMagnitude) || o.Bias == BiasOn
}

// Plan is a policy together with the units each layer keeps and the
// compensation biases: everything Apply and Slice need.
type Plan struct {
	Method   string      `json:"method,omitempty"`
	Score    string      `json:"score,omitempty"`
	Ratio    float64     `json:"ratio"` // requested; Policy.Ratio gives the achieved one
	Bias     bool        `json:"bias"`
	Policy   Policy      `json:"policy"`
	Groups   [][]int     `json:"groups"`              // (layer) KV groups kept, ascending; empty for a dropped layer
	Channels [][]int     `json:"channels"`            // (layer) MLP channels kept, ascending
	Shape    Shape       `json:"shape"`               // of the model the plan was made for
	AttnBias [][]float32 `json:"attn_bias,omitempty"` // (layer)(Dim) added to o's output, nil when none
	MLPBias  [][]float32 `json:"mlp_bias,omitempty"`  // (layer)(Dim) added to down's output, nil when none
}

// NewPlan decides how much to prune in each layer of m with opt.Method at
// opt.Ratio, which units to keep, and (FLAP) their compensation. st comes
// from Calibrate on m; it may be nil only for the uniform method with
// magnitude scores and no bias.
func NewPlan(m *native.Model, st *Stats, opt Options) (*Plan, error) {
	if err := checkRatio("pruning", opt.Ratio, false); err != nil {
		return nil, err
	}
	if !slices.Contains(Methods(), opt.Method) {
		return nil, fmt.Errorf("unknown method %q: use one of %s", opt.Method, strings.Join(Methods(), ", "))
	}
	if opt.Method == MethodShortGPT && opt.Bias == BiasOn {
		return nil, fmt.Errorf("shortgpt drops whole layers: bias compensation does not apply to it")
	}
	if opt.Score != "" && !slices.Contains([]string{MethodUniform, MethodOWL, MethodRandom}, opt.Method) {
		return nil, fmt.Errorf("method %s has its own score; a score can be chosen for uniform, owl and random only", opt.Method)
	}
	if opt.NeedsStats() && st == nil {
		return nil, fmt.Errorf("%w: method %s needs calibration statistics: run Calibrate first", ErrCalibration, opt.Method)
	}
	if st != nil {
		if err := st.check(m); err != nil {
			return nil, err
		}
	}
	s := opt.Shape(m)
	var (
		pol Policy
		err error
	)
	switch opt.Method {
	case MethodUniform, MethodWandaSP:
		h, u := uniformRatios(len(s.Layers), opt.Ratio)
		pol, err = Allocate(s, opt.Ratio, h, u)
	case MethodRandom:
		h, u := randomRatios(len(s.Layers), opt.Ratio, opt.Seed)
		pol, err = Allocate(s, opt.Ratio, h, u)
	case MethodOWL:
		r := owlRatios(m, st, opt.Ratio, cmp.Or(opt.OutlierM, 5), cmp.Or(opt.Lambda, 0.08))
		pol, err = Allocate(s, opt.Ratio, r, r)
	case MethodFLAP:
		pol, err = flapPolicy(m, st, s, opt.Ratio)
	case MethodShortGPT:
		pol, err = shortGPTPolicy(s, st, opt.Ratio)
	}
	if err != nil {
		return nil, fmt.Errorf("%s at ratio %.4g: %w", opt.Method, opt.Ratio, err)
	}
	p, err := PlanFor(m, st, pol, opt)
	if err != nil {
		return nil, err
	}
	p.Ratio = opt.Ratio
	return p, nil
}

// PlanFor picks, in each layer of m, the units that pol keeps: the
// highest-scoring KV groups and channels by opt.Score (default: the
// method's, or wanda-sp without a method), and computes compensation
// biases when opt.Bias (or the method) asks. This is how a policy from
// elsewhere, such as PPF's agent, becomes a Plan.
func PlanFor(m *native.Model, st *Stats, pol Policy, opt Options) (*Plan, error) {
	s := opt.Shape(m)
	if err := pol.Validate(s); err != nil {
		return nil, err
	}
	score := opt.Score
	if score == "" {
		score = map[string]string{MethodUniform: ScoreMagnitude, MethodFLAP: ScoreFluctuation}[opt.Method]
		if score == "" {
			score = ScoreWandaSP
		}
	}
	bias := opt.Bias == BiasOn || (opt.Bias == BiasAuto && opt.Method == MethodFLAP)
	if bias && st == nil {
		return nil, fmt.Errorf("%w: bias compensation needs calibration statistics (mean inputs): run Calibrate first", ErrCalibration)
	}
	allDropped := true
	for _, l := range pol.Layers {
		allDropped = allDropped && l.Drop
	}
	if allDropped && len(pol.Layers) > 0 {
		return nil, fmt.Errorf("%w: the policy drops every layer; keep at least one", ErrBadPolicy)
	}
	sc, err := ComputeScores(m, st, score)
	if err != nil {
		return nil, err
	}
	L := len(m.Layers)
	p := &Plan{Method: opt.Method, Score: score, Ratio: pol.Ratio(s), Bias: bias, Policy: pol, Shape: s,
		Groups: make([][]int, L), Channels: make([][]int, L)}
	if bias {
		p.AttnBias, p.MLPBias = make([][]float32, L), make([][]float32, L)
	}
	for i := range m.Layers {
		lp := pol.Layers[i]
		if lp.Drop {
			p.Groups[i], p.Channels[i] = []int{}, []int{}
			continue
		}
		p.Groups[i] = sorted(topK(sc.Groups[i], lp.HeadUnits))
		p.Channels[i] = sorted(topK(sc.Channels[i], lp.MLPUnits))
		if bias {
			p.AttnBias[i], p.MLPBias[i] = compensation(m, i, &st.Layers[i], p.Groups[i], p.Channels[i])
		}
	}
	return p, nil
}

func sorted(idx []int) []int {
	out := slices.Clone(idx)
	slices.Sort(out)
	if out == nil {
		out = []int{}
	}
	return out
}

// compensation returns FLAP's biases for layer i: for every removed
// column c of o (down), its weight column times the calibration mean of
// its input, W[:, c]·E[a_c], summed; nil when nothing is removed.
func compensation(m *native.Model, i int, ls *LayerStats, groups, chans []int) (attn, mlp []float32) {
	l := &m.Layers[i]
	D := m.Dim
	bias := func(W []float32, cols int, keep []bool, mo *Moments) []float32 {
		var b []float32
		for c := 0; c < cols; c++ {
			if keep[c] {
				continue
			}
			if b == nil {
				b = make([]float32, D)
			}
			mean := mo.Mean(c)
			for r := 0; r < D; r++ {
				b[r] += float32(float64(W[r*cols+c]) * mean)
			}
		}
		return b
	}
	if l.NumKVHeads > 0 {
		per := l.NumHeads / l.NumKVHeads * m.HeadDim // columns of o per group
		keep := make([]bool, l.NumHeads*m.HeadDim)
		for _, g := range groups {
			for c := g * per; c < (g+1)*per; c++ {
				keep[c] = true
			}
		}
		attn = bias(l.Wo, len(keep), keep, &ls.AttnOut)
	}
	keep := make([]bool, l.HiddenDim)
	for _, c := range chans {
		keep[c] = true
	}
	mlp = bias(l.Down, l.HiddenDim, keep, &ls.DownIn)
	return attn, mlp
}

// Validate checks that p fits m: the same layer sizes, kept units in
// range, ascending and as many as the policy says, biases of width Dim.
func (p *Plan) Validate(m *native.Model) error {
	s := ShapeOf(m)
	if len(p.Shape.Layers) != len(s.Layers) || p.Shape.Dim != s.Dim || p.Shape.HeadDim != s.HeadDim {
		return fmt.Errorf("%w: the plan was made for a model of %d layers (dim %d), this one has %d (dim %d)",
			ErrBadPolicy, len(p.Shape.Layers), p.Shape.Dim, len(s.Layers), s.Dim)
	}
	for i, l := range s.Layers {
		if p.Shape.Layers[i] != l {
			return fmt.Errorf("%w: the plan was made for a model whose layer %d has %+v, this one has %+v; make the plan for this model",
				ErrBadPolicy, i, p.Shape.Layers[i], l)
		}
	}
	s.MinGroups, s.MinChannels = p.Shape.MinGroups, p.Shape.MinChannels
	if err := p.Policy.Validate(s); err != nil {
		return err
	}
	if len(p.Groups) != len(s.Layers) || len(p.Channels) != len(s.Layers) {
		return fmt.Errorf("%w: the plan lists kept units of %d and %d layers for %d layers", ErrBadPolicy, len(p.Groups), len(p.Channels), len(s.Layers))
	}
	for i, l := range s.Layers {
		if err := checkIndices(p.Groups[i], p.Policy.Layers[i].HeadUnits, l.KVHeads); err != nil {
			return fmt.Errorf("%w: layer %d KV groups: %v", ErrBadPolicy, i, err)
		}
		if err := checkIndices(p.Channels[i], p.Policy.Layers[i].MLPUnits, l.Channels); err != nil {
			return fmt.Errorf("%w: layer %d channels: %v", ErrBadPolicy, i, err)
		}
	}
	for _, bs := range [][][]float32{p.AttnBias, p.MLPBias} {
		if bs != nil && len(bs) != len(s.Layers) {
			return fmt.Errorf("%w: biases for %d layers, the model has %d", ErrBadPolicy, len(bs), len(s.Layers))
		}
		for i, b := range bs {
			if b != nil && len(b) != s.Dim {
				return fmt.Errorf("%w: layer %d bias has %d values, want %d", ErrBadPolicy, i, len(b), s.Dim)
			}
		}
	}
	return nil
}

func checkIndices(idx []int, want, n int) error {
	if len(idx) != want {
		return fmt.Errorf("%d listed, the policy keeps %d", len(idx), want)
	}
	for k, v := range idx {
		if v < 0 || v >= n || (k > 0 && v <= idx[k-1]) {
			return fmt.Errorf("index %d at position %d: indices must be ascending and below %d", v, k, n)
		}
	}
	return nil
}
