package predictor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Metrics measures predictions of log-perplexity against measurements.
type Metrics struct {
	N           int     `json:"n"`
	MAE         float64 `json:"mae"`           // mean |predicted - measured| log-perplexity
	RMSE        float64 `json:"rmse"`          // root mean square error of log-perplexity
	MaxAbsError float64 `json:"max_abs_error"` // largest |error| of log-perplexity
	RelPPLError float64 `json:"rel_ppl_error"` // mean |exp(predicted) - exp(measured)| / exp(measured)
	Spearman    float64 `json:"spearman"`      // rank correlation, ties averaged; 0 when undefined (fewer than 2 samples, or one side constant)
	Kendall     float64 `json:"kendall"`       // Kendall's tau-b; 0 when undefined
}

// BucketMetrics are the metrics of the samples whose ratio lies in
// [Lo, Hi).
type BucketMetrics struct {
	Lo      float64 `json:"lo"`
	Hi      float64 `json:"hi"`
	Metrics Metrics `json:"metrics"`
}

// Report holds the metrics of a set of predictions, overall and per
// ratio bucket (non-empty buckets only, in order).
type Report struct {
	Overall Metrics         `json:"overall"`
	Buckets []BucketMetrics `json:"buckets"`
}

// Compare measures predicted against measured log-perplexities, overall
// and per ratio bucket of width bucketWidth ([0, w), [w, 2w), ...; 0
// means 0.1).
func Compare(predicted, measured, ratios []float64, bucketWidth float64) (Report, error) {
	if len(predicted) != len(measured) || len(ratios) != len(measured) {
		return Report{}, fmt.Errorf("compare: %d predictions, %d measurements and %d ratios; pass one of each per sample",
			len(predicted), len(measured), len(ratios))
	}
	if bucketWidth == 0 {
		bucketWidth = 0.1
	}
	if !(bucketWidth > 0) {
		return Report{}, fmt.Errorf("compare: bucket width %v must be positive", bucketWidth)
	}
	rep := Report{Overall: metricsOf(predicted, measured)}
	byBucket := map[int][]int{}
	var keys []int
	for i, r := range ratios {
		b := int(math.Floor(r/bucketWidth + 1e-9))
		if _, ok := byBucket[b]; !ok {
			keys = append(keys, b)
		}
		byBucket[b] = append(byBucket[b], i)
	}
	slices.Sort(keys)
	for _, b := range keys {
		idx := byBucket[b]
		p, m := make([]float64, len(idx)), make([]float64, len(idx))
		for k, i := range idx {
			p[k], m[k] = predicted[i], measured[i]
		}
		rep.Buckets = append(rep.Buckets, BucketMetrics{Lo: float64(b) * bucketWidth, Hi: float64(b+1) * bucketWidth, Metrics: metricsOf(p, m)})
	}
	return rep, nil
}

func metricsOf(p, m []float64) Metrics {
	out := Metrics{N: len(p)}
	if len(p) == 0 {
		return out
	}
	var abs, sq, rel float64
	for i := range p {
		e := p[i] - m[i]
		abs += math.Abs(e)
		sq += e * e
		rel += math.Abs(math.Expm1(e))
		out.MaxAbsError = max(out.MaxAbsError, math.Abs(e))
	}
	n := float64(len(p))
	out.MAE, out.RMSE, out.RelPPLError = abs/n, math.Sqrt(sq/n), rel/n
	out.Spearman, out.Kendall = zeroNaN(Spearman(p, m)), zeroNaN(Kendall(p, m))
	return out
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// String formats r as a small table.
func (r Report) String() string {
	var sb strings.Builder
	row := func(name string, m Metrics) {
		fmt.Fprintf(&sb, "%-12s %6d %8.4f %8.4f %8.2f%% %8.4f %8.4f\n", name, m.N, m.MAE, m.RMSE, 100*m.RelPPLError, m.Spearman, m.Kendall)
	}
	fmt.Fprintf(&sb, "%-12s %6s %8s %8s %9s %8s %8s\n", "ratio", "n", "MAE", "RMSE", "rel ppl", "Spearman", "Kendall")
	row("all", r.Overall)
	for _, b := range r.Buckets {
		row(fmt.Sprintf("[%.2f,%.2f)", b.Lo, b.Hi), b.Metrics)
	}
	return sb.String()
}

// Ranks returns the ranks of x, 1 for the smallest, tied values sharing
// the mean of their ranks.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Pearson returns the correlation of x and y, NaN when either is constant
// or they have fewer than two values.
func Pearson(x, y []float64) float64 {
	n := len(x)
	if n < 2 || len(y) != n {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman returns the rank correlation of x and y: the Pearson
// correlation of their ranks, ties given their mean rank. NaN when
// undefined.
func Spearman(x, y []float64) float64 { return Pearson(Ranks(x), Ranks(y)) }

// Kendall returns Kendall's tau-b of x and y: (concordant - discordant) /
// sqrt((n0 - tiesX)(n0 - tiesY)) over all n0 pairs, where tiesX counts the
// pairs tied in x (tied in both included). NaN when undefined. It takes
// O(n²) time: fine for test sets of thousands.
func Kendall(x, y []float64) float64 {
	n := len(x)
	if n < 2 || len(y) != n {
		return math.NaN()
	}
	var conc, disc, tx, ty float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx, dy := cmp.Compare(x[i], x[j]), cmp.Compare(y[i], y[j])
			switch {
			case dx == 0 && dy == 0:
				tx++
				ty++
			case dx == 0:
				tx++
			case dy == 0:
				ty++
			case dx == dy:
				conc++
			default:
				disc++
			}
		}
	}
	n0 := float64(n) * float64(n-1) / 2
	den := math.Sqrt((n0 - tx) * (n0 - ty))
	if den == 0 {
		return math.NaN()
	}
	return (conc - disc) / den
}
