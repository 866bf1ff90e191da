package predictor

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRankCorrelationsByHand(t *testing.T) {
	// x has a tie. Ranks: x 1, 2.5, 2.5, 4; y 1, 3, 2, 4. Spearman =
	// 4.5/√(4.5·5); Kendall: 5 concordant pairs, 1 tied in x, tau-b =
	// 5/√(5·6).
	x, y := []float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}
	if got := Ranks(x); got[0] != 1 || got[1] != 2.5 || got[2] != 2.5 || got[3] != 4 {
		t.Fatalf("Ranks = %v", got)
	}
	if got, want := Spearman(x, y), 4.5/math.Sqrt(22.5); !near(got, want, 1e-12) {
		t.Fatalf("Spearman = %v, want %v", got, want)
	}
	if got, want := Kendall(x, y), 5/math.Sqrt(30); !near(got, want, 1e-12) {
		t.Fatalf("Kendall = %v, want %v", got, want)
	}
	// Two swapped neighbours in five: Spearman 1 - 6·4/120 = 0.8,
	// Kendall (8-2)/10 = 0.6.
	x, y = []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}
	if got := Spearman(x, y); !near(got, 0.8, 1e-12) {
		t.Fatalf("Spearman = %v, want 0.8", got)
	}
	if got := Kendall(x, y); !near(got, 0.6, 1e-12) {
		t.Fatalf("Kendall = %v, want 0.6", got)
	}
	if got := Kendall([]float64{1, 2, 3}, []float64{3, 2, 1}); got != -1 {
		t.Fatalf("Kendall of reversed = %v, want -1", got)
	}
	if !math.IsNaN(Spearman([]float64{1, 1}, []float64{1, 2})) || !math.IsNaN(Kendall([]float64{1}, []float64{1})) {
		t.Fatal("correlations of a constant or a single sample should be NaN")
	}
}

func TestCompareByHand(t *testing.T) {
	pred, meas, ratios := []float64{1, 2, 3}, []float64{1.5, 2, 3}, []float64{0.05, 0.15, 0.19}
	rep, err := Compare(pred, meas, ratios, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Overall
	if o.N != 3 || !near(o.MAE, 0.5/3, 1e-12) || !near(o.RMSE, math.Sqrt(0.25/3), 1e-12) || o.MaxAbsError != 0.5 {
		t.Fatalf("overall %+v", o)
	}
	if want := (1 - math.Exp(-0.5)) / 3; !near(o.RelPPLError, want, 1e-12) {
		t.Fatalf("relative perplexity error %v, want %v", o.RelPPLError, want)
	}
	if o.Spearman != 1 || o.Kendall != 1 {
		t.Fatalf("rank correlations %v %v, want 1 and 1", o.Spearman, o.Kendall)
	}
	if len(rep.Buckets) != 2 || rep.Buckets[0].Lo != 0 || rep.Buckets[0].Metrics.N != 1 || rep.Buckets[1].Metrics.N != 2 ||
		!near(rep.Buckets[1].Lo, 0.1, 1e-12) || rep.Buckets[0].Metrics.Spearman != 0 {
		t.Fatalf("buckets %+v", rep.Buckets)
	}
	if _, err := Compare(pred, meas[:2], ratios, 0.1); err == nil {
		t.Fatal("Compare of unequal lengths: no error")
	}
}
