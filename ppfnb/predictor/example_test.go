package predictor_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// A notebook cell: describe the model, get measured records (here from
// the synthetic task; a real collector measures them with the engine and
// appends them with AppendRecord), train, check on held-out policies,
// save, load and score.
func Example() {
	space, err := predictor.NewLlamaSpace("stories260K",
		predictor.LlamaDims{Layers: 5, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	task, _ := predictor.NewSynthetic(space, 7)
	data, _ := task.Dataset(600, 0.05, 0.7, 1.5, 1) // or predictor.LoadDataset("stories260K.jsonl")
	train, test := data.Split(0.25, 1)

	p, err := predictor.Train(context.Background(), space, train, predictor.DefaultTrainConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, _ := p.Evaluate(test, 0.1)
	fmt.Printf("%d held-out policies, Spearman %.2f, relative perplexity error under 10%%: %v\n",
		rep.Overall.N, rep.Overall.Spearman, rep.Overall.RelPPLError < 0.1)

	dir, _ := os.MkdirTemp("", "ppf")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "stories260K.predictor.json")
	if err := p.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	q, err := predictor.Load(path, space)
	if err != nil {
		fmt.Println(err)
		return
	}
	uniform, _ := space.Uniform(0.5)
	predicted, _ := q.Score(uniform)
	truth, _ := task.LogPPL(uniform)
	fmt.Printf("uniform 50%%: ratio %.3f, predicted perplexity within 10%% of the truth: %v\n",
		space.Ratio(uniform), math.Abs(math.Exp(predicted-truth)-1) < 0.1)
	// Output:
	// 150 held-out policies, Spearman 1.00, relative perplexity error under 10%: true
	// uniform 50%: ratio 0.500, predicted perplexity within 10% of the truth: true
}
