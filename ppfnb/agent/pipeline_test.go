package agent

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/ppfnb/predictor"
)

// TestPipeline runs PPF's whole loop on the synthetic task at several
// depths: measure n policies, train the predictor, train the agent
// against it, and score the agent's policies with the truth; and, for
// reference, an agent trained against the truth itself. It takes about a
// minute: run it with PPF_AGENT_PIPELINE=1 (and nice). Its figures are
// the package comment's.
func TestPipeline(t *testing.T) {
	if os.Getenv("PPF_AGENT_PIPELINE") == "" {
		t.Skip("set PPF_AGENT_PIPELINE=1 to run the whole pipeline on the synthetic task (a minute)")
	}
	ratios := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}
	row := func(res []Result) string {
		var sb strings.Builder
		m := 0.0
		for _, r := range res {
			fmt.Fprintf(&sb, " %.3f", r.Gain)
			m += r.Gain / float64(len(res))
		}
		fmt.Fprintf(&sb, " | mean %.3f", m)
		return sb.String()
	}
	for _, L := range []int{5, 12, 32} {
		s := llamaSpace(t, "m", predictor.LlamaDims{Layers: L, Dim: 64, Heads: 8, KVHeads: 4, Hidden: 172}, 1, 1)
		y, err := predictor.NewSynthetic(s, 7)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ref, err := Train(context.Background(), s, y, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		res, _ := ref.Versus(y, ratios)
		t.Logf("L=%d agent trained on the truth (%.1fs): true gain over uniform at %v:%s", L, took.Seconds(), ratios, row(res))
		for _, n := range []int{500, 1500} {
			d, err := y.Dataset(n, 0.05, 0.7, 1.5, 1)
			if err != nil {
				t.Fatal(err)
			}
			pr, err := predictor.Train(context.Background(), s, d, predictor.DefaultTrainConfig())
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			a, err := Train(context.Background(), s, pr, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			res, _ := a.Versus(y, ratios)
			pred, _ := a.Versus(pr, ratios)
			t.Logf("L=%d agent trained on a predictor of %d records (%.1fs): true gain%s; predicted gain%s", L, n, took.Seconds(), row(res), row(pred))
		}
	}
}
