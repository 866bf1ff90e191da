package predictor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ppfkit/ppf/ppfnb/internal/adam"
)

// TrainConfig sets how a predictor is trained: Adam on mean squared
// error of standardised log-perplexity, in mini-batches, with early
// stopping on a validation split taken from the training data.
type TrainConfig struct {
	Arch         Arch    `json:"arch"`
	MaxEpochs    int     `json:"max_epochs"`
	Patience     int     `json:"patience"`      // stop after this many epochs without a better validation loss; the learning rate halves after half as many
	BatchSize    int     `json:"batch_size"`    //
	LearningRate float64 `json:"learning_rate"` // Adam's step size
	WeightDecay  float64 `json:"weight_decay"`  // L2 penalty on weights (not biases or embeddings)
	ValFraction  float64 `json:"val_fraction"`  // share of the records held out for early stopping
	Seed         uint64  `json:"seed"`          // fixes initialisation, split and batch order: the same seed and data give the same predictor

	// Progress, when not nil, is called after every epoch.
	Progress func(e Epoch) `json:"-"`
}

// DefaultTrainConfig returns the settings the package's tests and
// benchmarks use, with the CNN (see the package comment for the measured
// comparison with the MLP).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Arch: CNNArch(1), MaxEpochs: 400, Patience: 30, BatchSize: 16,
		LearningRate: 1e-2, WeightDecay: 1e-4, ValFraction: 0.15, Seed: 1}
}

// Epoch is one point of the training curve. Losses are root mean square
// errors of log-perplexity.
type Epoch struct {
	Epoch        int     `json:"epoch"`
	TrainRMSE    float64 `json:"train_rmse"`
	ValRMSE      float64 `json:"val_rmse"`
	LearningRate float64 `json:"learning_rate"`
	Best         bool    `json:"best"` // the best validation loss so far: these weights are kept
}

// TrainSummary records how a predictor was trained.
type TrainSummary struct {
	Config    TrainConfig `json:"config"`
	TrainN    int         `json:"train_n"`
	ValN      int         `json:"val_n"`
	Epochs    int         `json:"epochs"`     // run
	BestEpoch int         `json:"best_epoch"` // whose weights were kept
	ValRMSE   float64     `json:"val_rmse"`   // at BestEpoch
	Curve     []Epoch     `json:"curve"`
}

// sample is one record's standardised features and target.
type sample struct {
	x     []float64 // (L, 3)
	ratio float64
	y     float64
}

// Train fits a predictor for space s to the measured records in data
// (all of them for s's model: see Record.CheckSpace). It is
// deterministic for a given config and data, and stops early when ctx
// is cancelled, returning ctx's error.
func Train(ctx context.Context, s Space, data Dataset, cfg TrainConfig) (*Predictor, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Arch.check(); err != nil {
		return nil, err
	}
	if cfg.MaxEpochs < 1 || cfg.BatchSize < 1 || !(cfg.LearningRate > 0) || cfg.WeightDecay < 0 || !(cfg.ValFraction > 0 && cfg.ValFraction < 1) {
		return nil, fmt.Errorf("train config %+v: max epochs, batch size and learning rate must be positive, weight decay not negative, and val fraction in (0, 1); start from DefaultTrainConfig()", cfg)
	}
	if len(data) < 10 {
		return nil, fmt.Errorf("%d records are too few to train a predictor; measure at least 10 (hundreds for a useful one)", len(data))
	}
	for i, r := range data {
		if err := r.CheckSpace(s); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	trainD, valD := data.Split(cfg.ValFraction, cfg.Seed)
	if len(valD) == 0 {
		trainD, valD = trainD[1:], trainD[:1]
	}
	L := len(s.Layers)

	norm := fitNorm(s, trainD)
	pr, err := newPredictor(s, cfg.Arch, norm)
	if err != nil {
		return nil, err
	}
	toSamples := func(d Dataset) []sample {
		out := make([]sample, len(d))
		for i, r := range d {
			pr.fill(r.Policy)
			x := make([]float64, L*inputChannels)
			copy(x, pr.net.input(pr.w))
			h := pr.w.hid[0]
			out[i] = sample{x: x, ratio: h[len(h)-1], y: (r.LogPPL() - norm.OutMean) / norm.OutStd}
		}
		return out
	}
	tr, va := toSamples(trainD), toSamples(valD)

	n := pr.net
	n.init(rand.New(rand.NewPCG(cfg.Seed, 0x696e6974)))    // "init"
	shuffle := rand.New(rand.NewPCG(cfg.Seed, 0x73687566)) // "shuf"
	grad := make([]float64, len(n.params))
	gv := n.layout(grad)
	decay := decayMask(n)
	var opt adam.Adam
	best := append([]float64(nil), n.params...)
	bestLoss, bestEpoch, lr, sinceBest := math.Inf(1), 0, cfg.LearningRate, 0
	sum := TrainSummary{Config: cfg, TrainN: len(tr), ValN: len(va)}
	sum.Config.Progress = nil
	order := make([]int, len(tr))
	for i := range order {
		order[i] = i
	}

	for epoch := 1; epoch <= cfg.MaxEpochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var trainSSE float64
		for b := 0; b < len(order); b += cfg.BatchSize {
			batch := order[b:min(b+cfg.BatchSize, len(order))]
			clear(grad)
			for _, i := range batch {
				e := pr.forwardSample(tr[i]) - tr[i].y
				trainSSE += e * e
				n.backward(pr.w, gv, 2*e/float64(len(batch)))
			}
			for k := range grad {
				grad[k] += cfg.WeightDecay * decay[k] * n.params[k]
			}
			opt.Step(n.params, grad, lr)
		}
		var valSSE float64
		for _, s := range va {
			e := pr.forwardSample(s) - s.y
			valSSE += e * e
		}
		ep := Epoch{Epoch: epoch, TrainRMSE: math.Sqrt(trainSSE/float64(len(tr))) * norm.OutStd,
			ValRMSE: math.Sqrt(valSSE/float64(len(va))) * norm.OutStd, LearningRate: lr}
		if math.IsNaN(ep.TrainRMSE) {
			return nil, fmt.Errorf("training diverged at epoch %d; lower the learning rate (now %g)", epoch, cfg.LearningRate)
		}
		if ep.ValRMSE < bestLoss {
			bestLoss, bestEpoch, sinceBest, ep.Best = ep.ValRMSE, epoch, 0, true
			copy(best, n.params)
		} else {
			sinceBest++
		}
		sum.Curve = append(sum.Curve, ep)
		sum.Epochs = epoch
		if cfg.Progress != nil {
			cfg.Progress(ep)
		}
		if cfg.Patience > 0 {
			if sinceBest >= cfg.Patience {
				break
			}
			if sinceBest > 0 && sinceBest%max(cfg.Patience/2, 1) == 0 {
				lr /= 2
			}
		}
	}
	copy(n.params, best)
	sum.BestEpoch, sum.ValRMSE = bestEpoch, bestLoss
	pr.summary = sum
	return pr, nil
}

func (p *Predictor) forwardSample(s sample) float64 {
	copy(p.net.input(p.w), s.x)
	p.net.setRatio(p.w, s.ratio)
	return p.net.forward(p.w)
}

// fitNorm standardises each input channel over all layers of the
// training records, the ratio and log-perplexity; a constant input (no
// dropped layers, say) gets deviation 1.
func fitNorm(s Space, d Dataset) Norm {
	var sum, sq [inputChannels + 2]float64
	var nl float64
	for _, r := range d {
		h, m := s.Fractions(r.Policy)
		for i := range h {
			dr := 0.0
			if r.Policy.Layers[i].Drop {
				dr = 1
			}
			for c, v := range [inputChannels]float64{h[i], m[i], dr} {
				sum[c] += v
				sq[c] += v * v
			}
			nl++
		}
		for c, v := range [2]float64{r.Ratio, r.LogPPL()} {
			sum[inputChannels+c] += v
			sq[inputChannels+c] += v * v
		}
	}
	mean := func(c int, n float64) float64 { return sum[c] / n }
	std := func(c int, n float64) float64 {
		m := sum[c] / n
		v := sq[c]/n - m*m
		if v < 1e-12 {
			return 1
		}
		return math.Sqrt(v)
	}
	nr := float64(len(d))
	nm := Norm{InMean: make([]float64, inputChannels), InStd: make([]float64, inputChannels)}
	for c := range inputChannels {
		nm.InMean[c], nm.InStd[c] = mean(c, nl), std(c, nl)
	}
	nm.RatioMean, nm.RatioStd = mean(inputChannels, nr), std(inputChannels, nr)
	nm.OutMean, nm.OutStd = mean(inputChannels+1, nr), std(inputChannels+1, nr)
	return nm
}

// decayMask is 1 for the weights of convolutions and dense layers, 0 for
// biases and the layer embedding.
func decayMask(n *net) []float64 {
	m := make([]float64, len(n.params))
	v := n.layout(m)
	for _, c := range v.convs {
		for i := range c.w {
			c.w[i] = 1
		}
	}
	for _, d := range v.dense {
		for i := range d.w {
			d.w[i] = 1
		}
	}
	return m
}
