package prune_test

import (
	"context"
	"fmt"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/prune"
)

// Prune a small random model with FLAP at ratio 0.4: calibrate, plan,
// evaluate the plan as masks, then slice a smaller model.
func Example() {
	m := native.RandomModel(native.Config{Dim: 32, HiddenDim: 24, NumLayers: 3, NumHeads: 8, NumKVHeads: 4, VocabSize: 40, SeqLen: 64}, 1)
	tokens := make([]int, 256)
	for i := range tokens {
		tokens[i] = (i * 7) % 40
	}
	calib, heldOut, _ := prune.Split(tokens, 192) // calibration and evaluation never overlap
	ctx := context.Background()
	st, err := prune.Calibrate(ctx, m, calib, prune.CalibOptions{SeqLen: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := prune.NewPlan(m, st, prune.Options{Method: prune.MethodFLAP, Ratio: 0.4})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := prune.ShapeOf(m)
	fmt.Printf("achieved ratio %.2f\n", plan.Policy.Ratio(s))

	masked, _ := prune.Apply(m, plan) // reversible: evaluate, then Reset
	a, _ := native.Perplexity(ctx, m, heldOut, native.EvalOptions{SeqLen: 32})
	masked.Reset()

	small, _ := prune.Slice(m, plan) // a smaller model: the same perplexity, faster
	b, _ := native.Perplexity(ctx, small, heldOut, native.EvalOptions{SeqLen: 32})
	fmt.Printf("same perplexity: %v; parameters %d -> %d\n", fmt.Sprintf("%.4f", a.Perplexity) == fmt.Sprintf("%.4f", b.Perplexity), m.NumParams(), small.NumParams())
	// Output:
	// achieved ratio 0.40
	// same perplexity: true; parameters 18912 -> 12672
}
