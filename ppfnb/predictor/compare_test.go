package predictor

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestCompareArchitectures measures the networks on held-out synthetic
// policies at several depths, two seeds each (data and training). It
// takes a few minutes: run it with PPF_PREDICTOR_COMPARE=1 (and nice)
// when changing the architectures or the training defaults. "within" is
// the mean Spearman inside the 0.1-wide ratio buckets: how well the
// network ranks policies of one ratio, which is what the agent needs.
func TestCompareArchitectures(t *testing.T) {
	if os.Getenv("PPF_PREDICTOR_COMPARE") == "" {
		t.Skip("set PPF_PREDICTOR_COMPARE=1 to compare the architectures (minutes)")
	}
	for _, L := range []int{5, 16, 32} {
		s := storiesSpace(t)
		if L != 5 {
			s = llamaSpace(t, L)
		}
		for _, arch := range []Arch{CNNArch(1), CNNArch(3), MLPArch()} {
			var mae, sp, within, secs float64
			for seed := uint64(1); seed <= 2; seed++ {
				_, d := synthData(t, s, 1500, seed)
				train, test := d.Split(0.2, seed)
				cfg := DefaultTrainConfig()
				cfg.Arch, cfg.Seed = arch, seed
				start := time.Now()
				p, err := Train(context.Background(), s, train, cfg)
				if err != nil {
					t.Fatal(err)
				}
				secs += time.Since(start).Seconds() / 2
				rep, err := p.Evaluate(test, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				mae += rep.Overall.MAE / 2
				sp += rep.Overall.Spearman / 2
				for _, b := range rep.Buckets {
					within += b.Metrics.Spearman / float64(2*len(rep.Buckets))
				}
			}
			t.Logf("L=%2d %s k=%d: held-out MAE %.4f Spearman %.4f within-bucket Spearman %.4f (%.1fs to train)",
				L, arch.Kind, arch.Kernel, mae, sp, within, secs)
		}
	}
}
