package agent

import (
	"math"
	"math/rand/v2"
)

// numFeatures is the size of the ratio's encoding: u and 2u²-1 (the first
// two Chebyshev polynomials) of u, the ratio mapped onto [-1, 1] over the
// trained range.
const numFeatures = 2

// policyNet maps the ratio to the means of the allocation logits, one
// per unit type (2l: layer l's attention, 2l+1: its MLP), through one
// tanh hidden layer; the means are bounded: μ = MaxLogit·tanh(o). Each
// logit also has a learned log standard deviation, independent of the
// ratio, for exploration during training.
type policyNet struct {
	H, D     int       // hidden width, outputs (2·layers)
	maxLogit float64   //
	params   []float64 // all of the below, in order
	w1, b1   []float64 // (H, numFeatures), (H)
	w2, b2   []float64 // (D, H), (D)
	logStd   []float64 // (D)
}

func newPolicyNet(H, D int, maxLogit float64) *policyNet {
	n := &policyNet{H: H, D: D, maxLogit: maxLogit, params: make([]float64, H*numFeatures+H+D*H+D+D)}
	n.w1, n.b1, n.w2, n.b2, n.logStd = n.views(n.params)
	return n
}

func (n *policyNet) views(buf []float64) (w1, b1, w2, b2, logStd []float64) {
	off := 0
	take := func(k int) []float64 {
		s := buf[off : off+k : off+k]
		off += k
		return s
	}
	return take(n.H * numFeatures), take(n.H), take(n.D * n.H), take(n.D), take(n.D)
}

// init spreads the hidden units' switching points over the ratio range
// and zeroes the output layer, so an untrained agent gives the uniform
// policy (all logits 0) and explores around it with deviation std.
func (n *policyNet) init(rng *rand.Rand, std float64) {
	clear(n.params)
	for i := range n.w1 {
		n.w1[i] = 2 * rng.NormFloat64()
	}
	for i := range n.b1 {
		n.b1[i] = 2 * (2*rng.Float64() - 1)
	}
	for i := range n.logStd {
		n.logStd[i] = math.Log(std)
	}
}

// pass holds one forward pass: inputs, hidden activations, means.
type pass struct {
	x  [numFeatures]float64
	h  []float64 // (H) after tanh
	mu []float64 // (D)
}

func (n *policyNet) newPass() *pass { return &pass{h: make([]float64, n.H), mu: make([]float64, n.D)} }

func (n *policyNet) forward(u float64, p *pass) {
	p.x = [numFeatures]float64{u, 2*u*u - 1}
	for j := range n.H {
		s := n.b1[j]
		for f, x := range p.x {
			s += n.w1[j*numFeatures+f] * x
		}
		p.h[j] = math.Tanh(s)
	}
	for d := range n.D {
		s := n.b2[d]
		row := n.w2[d*n.H : (d+1)*n.H]
		for j, h := range p.h {
			s += row[j] * h
		}
		p.mu[d] = n.maxLogit * math.Tanh(s)
	}
}

// backward adds to g (laid out as params) the gradient of Σ dmu·μ after
// forward(p); dh is scratch of size H.
func (n *policyNet) backward(p *pass, dmu, dh []float64, g []float64) {
	gw1, gb1, gw2, gb2, _ := n.views(g)
	clear(dh)
	for d, gm := range dmu {
		t := p.mu[d] / n.maxLogit
		do := gm * n.maxLogit * (1 - t*t)
		if do == 0 {
			continue
		}
		gb2[d] += do
		row, grow := n.w2[d*n.H:(d+1)*n.H], gw2[d*n.H:(d+1)*n.H]
		for j, h := range p.h {
			grow[j] += do * h
			dh[j] += do * row[j]
		}
	}
	for j, h := range p.h {
		dpre := dh[j] * (1 - h*h)
		gb1[j] += dpre
		for f, x := range p.x {
			gw1[j*numFeatures+f] += dpre * x
		}
	}
}
