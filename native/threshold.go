package native

import (
	"slices"
	"sync"
	"time"
)

// Whether a product is worth splitting across goroutines depends on the
// machine: handing work to a helper (a channel send, a wake-up, a wait)
// costs about as much as thousands of multiply-adds, and how many depends
// on the cores, the kernels and the scheduler. So the threshold is not a
// constant but measured, once per process, the first time a product asks:
// the round trip of an empty task through a team of two whose helper has
// gone to sleep, and the time of a small product on one goroutine, for one token and for several (the
// kernels differ, and so does their speed). It decides only where work
// runs, never what it computes: every output is summed by one worker in
// the same order whatever the split.

var (
	thresholdOnce sync.Once
	thresholds    [3]int // multiply-adds: one token, several, one token from panels
)

// minParallelWork returns the number of multiply-adds of a product of n
// tokens below which it runs on the calling goroutine alone.
func minParallelWork(n int) int {
	thresholdOnce.Do(measureThresholds)
	if n == 1 {
		return thresholds[0]
	}
	return thresholds[1]
}

// minParallelPanelWork is minParallelWork for one token multiplied by
// packed panels, whose kernels are faster and so need more work to pay a
// hand-off.
func minParallelPanelWork() int {
	thresholdOnce.Do(measureThresholds)
	return thresholds[2]
}

type nopTask struct{}

func (nopTask) run(int, int) {}

func measureThresholds() {
	tm := newTeam()
	defer tm.close()
	tm.run(2, nopTask{}) // start the helper
	handoff := medianTime(func() {
		// a helper left idle sleeps, as it does between the products
		// of a decoding step, and waking it is most of a hand-off's cost
		time.Sleep(50 * time.Microsecond)
	}, func() { tm.run(2, nopTask{}) })
	const n, in, out = 8, 256, 64
	x, w, res := make([]float32, n*in), make([]float32, out*in), make([]float32, n*out)
	for i := range w {
		w[i] = float32(i%13) - 6
	}
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	sc := newScratch()
	one := medianTime(nil, func() { defaultGemm.nt(sc, res, out, x, in, w, in, 1, in, 0, out) })
	several := medianTime(nil, func() { defaultGemm.nt(sc, res, out, x, in, w, in, n, in, 0, out) })
	thresholds[0] = breakEven(handoff, one, in*out)
	thresholds[1] = breakEven(handoff, several, n*in*out)
	thresholds[2] = thresholds[0]
	if packPanel != nil {
		pm := packPanels(w, out, in)
		panel, width := pm.panel(0)
		oneFromPanels := medianTime(nil, func() { panelVec(res, x, panel, in, width) })
		thresholds[2] = breakEven(handoff, oneFromPanels, in*out)
	}
}

// breakEven returns the work, in multiply-adds, above which splitting it
// in two pays for a hand-off of h, given that macs of them took t on one
// goroutine: half of the work's time, t·W/(2·macs), must exceed h. It is
// kept within [2^10, 2^24], so that a freak measurement neither splits
// every product nor none.
func breakEven(h, t time.Duration, macs int) int {
	w := 2 * float64(h) * float64(macs) / float64(max(t, 1))
	return int(min(max(w, 1<<10), 1<<24))
}

// medianTime runs f a few times after a warm-up, each after before when
// not nil, and returns the median time of one run of f: the machine may
// be busy with other work, and the median ignores the runs that another
// process interrupted.
func medianTime(before, f func()) time.Duration {
	f()
	ts := make([]time.Duration, 21)
	for i := range ts {
		if before != nil {
			before()
		}
		t0 := time.Now()
		f()
		ts[i] = time.Since(t0)
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}
