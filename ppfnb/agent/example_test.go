package agent_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// A notebook cell: train the agent against a scorer (a trained
// *predictor.Predictor in practice; the synthetic task here), then ask
// for a policy at any ratio of the trained range.
func Example() {
	space, err := predictor.NewLlamaSpace("stories260K",
		predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	task, _ := predictor.NewSynthetic(space, 7) // or predictor.Load("stories260K.predictor.json", space)

	cfg := agent.DefaultConfig() // ratios 0.05 to 0.7
	cfg.Steps = 100
	a, err := agent.Train(context.Background(), space, task, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := a.Policy(0.42)
	fmt.Printf("asked 0.42, removes %.3f; layer 0 keeps %d of 4 key/value groups\n", space.Ratio(p), p.Layers[0].HeadUnits)

	results, _ := a.Versus(task, []float64{0.2, 0.4, 0.6})
	for _, r := range results {
		fmt.Printf("ratio %.1f: better than uniform: %v\n", r.Ratio, r.Gain > 0)
	}
	_, err = a.Policy(0.9)
	fmt.Println(errors.Is(err, agent.ErrOutOfRange))
	// Output:
	// asked 0.42, removes 0.420; layer 0 keeps 4 of 4 key/value groups
	// ratio 0.2: better than uniform: true
	// ratio 0.4: better than uniform: true
	// ratio 0.6: better than uniform: true
	// true
}
