// Package adam is the Adam optimiser (Kingma and Ba 2015) with β1 0.9,
// β2 0.999 and ε 1e-8, shared by the predictor's and the agent's training.
package adam

import "math"

// Adam holds the moment estimates of one parameter vector; the zero value
// is ready and sizes itself on the first Step.
type Adam struct {
	m, v []float64
	t    int
}

// Step moves params against grad with learning rate lr.
func (a *Adam) Step(params, grad []float64, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	if a.m == nil {
		a.m, a.v = make([]float64, len(params)), make([]float64, len(params))
	}
	a.t++
	c1, c2 := 1-math.Pow(b1, float64(a.t)), 1-math.Pow(b2, float64(a.t))
	for i, g := range grad {
		a.m[i] = b1*a.m[i] + (1-b1)*g
		a.v[i] = b2*a.v[i] + (1-b2)*g*g
		params[i] -= lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + eps)
	}
}
