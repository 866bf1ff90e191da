package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// Log axes. gonum/plot's LogScale misplaces a centred axis label's
// glyph box (it takes the label's position at the mean of the data range,
// which a log scale puts near the top) and pads the plot for it; so the
// charts plot log10 of their values on a linear axis and label the ticks
// with the values themselves.

// Log is the coordinate of a value on a log axis: its log10. Plot Log of
// the values, and mark the axis with LogTicks (or set it with LogRange).
func Log(v float64) float64 { return math.Log10(v) }

// LogTicks marks a log axis (see Log) at 1, 2 and 5 times the powers of
// ten (at more steps when the range is narrow), labelled with the
// values, and at the other integer multiples unlabelled.
type LogTicks struct{}

// Ticks implements plot.Ticker; lo and hi are log10 of the range.
func (LogTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	mantissas := []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}
	labelled := map[float64]bool{1: true, 2: true, 5: true}
	if hi-lo < 1.3 {
		labelled[3] = true
	}
	if hi-lo < 0.6 {
		labelled = map[float64]bool{1: true, 1.5: true, 2: true, 2.5: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true}
	}
	var ticks []plot.Tick
	for e := math.Floor(lo) - 1; e <= math.Ceil(hi); e++ {
		for _, m := range mantissas {
			v := math.Pow(10, e) * m
			if Log(v) < lo-1e-9 || Log(v) > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: Log(v)}
			if labelled[m] {
				t.Label = TrimFloat(v)
			} else if m != math.Trunc(m) {
				continue // half steps only where labelled
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// NarrowLogTicks marks a log axis spanning less than a factor of 3 with
// NiceTicks' evenly spaced values, which a 1-2-5 log axis would leave
// with one label or none; a wider axis gets LogTicks.
type NarrowLogTicks struct{}

// Ticks implements plot.Ticker; lo and hi are log10 of the range.
func (NarrowLogTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi-lo > math.Log10(3) {
		return LogTicks{}.Ticks(lo, hi)
	}
	ticks := NiceTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ticks {
		ticks[i].Value = Log(ticks[i].Value)
	}
	return ticks
}

// TrimFloat prints a tick value without needless digits: whole numbers
// from 1 up without a point, others to at most three decimals.
func TrimFloat(v float64) string {
	if v >= 1 && math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("%.0f", v)
	}
	s := fmt.Sprintf("%.3f", v)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// PercentTicks marks a 0..1 (or wider) axis in percent, every Step.
type PercentTicks struct{ Step float64 }

// Ticks implements plot.Ticker.
func (t PercentTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := math.Ceil(lo/t.Step-1e-9) * t.Step; v <= hi+1e-9; v += t.Step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f%%", math.Abs(math.Round(100*v)))})
	}
	return ticks
}

// LogRange makes a a log axis (see Log) from lo to hi (values, not their
// logs), widened to the nearest 1, 2 or 5 times a power of ten, so that
// both ends carry a label. A range that is empty or not positive becomes
// 1 to 10 times its low end.
func LogRange(a *plot.Axis, lo, hi float64) {
	if !(lo > 0) || math.IsInf(lo, 0) {
		lo = 1
	}
	if !(hi > lo) || math.IsInf(hi, 0) {
		hi = lo * 10
	}
	a.Tick.Marker = LogTicks{}
	a.Min, a.Max = Log(Snap(lo/1.03, false)), Log(Snap(hi*1.03, true))
}

// Snap returns the nearest value of 1, 2 or 5 times a power of ten
// below v (above it when up).
func Snap(v float64, up bool) float64 {
	e := math.Pow(10, math.Floor(Log(v)))
	steps := []float64{1, 2, 5, 10}
	if up {
		for _, m := range steps {
			if m*e >= v*(1-1e-9) {
				return m * e
			}
		}
	}
	for k := len(steps) - 1; k >= 0; k-- {
		if steps[k]*e <= v*(1+1e-9) {
			return steps[k] * e
		}
	}
	return e
}

// IntTicks marks the integers of an axis every Step (0 or 1: each),
// labelled with the number or, with Names, tick i with Names[i].
type IntTicks struct {
	Step  int
	Names []string
}

// Ticks implements plot.Ticker.
func (t IntTicks) Ticks(lo, hi float64) []plot.Tick {
	step := max(t.Step, 1)
	var ticks []plot.Tick
	for v := int(math.Ceil(lo)); float64(v) <= hi; v++ {
		if v%step != 0 {
			continue
		}
		label := fmt.Sprint(v)
		if v >= 0 && v < len(t.Names) {
			label = t.Names[v]
		}
		ticks = append(ticks, plot.Tick{Value: float64(v), Label: label})
	}
	return ticks
}

// TickStep is the round step between integer labels (1, 2, 5, 10, 20,
// 25, ...) that puts at most about want labels on n values, for IntTicks.
func TickStep(n, want int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000} {
		if n/s <= want {
			return s
		}
	}
	return n / want
}

// StepTicks marks a linear axis every Step, labelled with Format (for
// fmt.Sprintf: "%.1f").
type StepTicks struct {
	Step   float64
	Format string
}

// Ticks implements plot.Ticker.
func (t StepTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Ceil(lo/t.Step - 1e-9); k*t.Step <= hi+1e-9; k++ {
		v := k * t.Step
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf(t.Format, v+0)})
	}
	return ticks
}

// NiceTicks labels a linear axis at multiples of a round step (1, 2, 2.5
// or 5 times a power of ten) chosen for about five labels, with
// unlabelled ticks halfway. NewPanel's axes start with it.
type NiceTicks struct{}

// Ticks implements plot.Ticker.
func (NiceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	e := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	step := e
	for _, m := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10} {
		if (hi-lo)/(m*e) <= 6 {
			step = m * e
			break
		}
	}
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step/math.Pow(10, -float64(prec))-math.Round(step/math.Pow(10, -float64(prec)))) > 1e-9 {
		prec++ // 2.5, 0.25
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k*step/2 <= hi+1e-9; k++ {
		v := k*step/2 + 0
		t := plot.Tick{Value: v}
		if int(k)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
