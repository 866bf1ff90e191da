package native

import (
	"runtime"
	"sync/atomic"
)

// A task is work that a team splits: run is called once for each worker w
// in [0, workers), on different goroutines, and must touch only worker w's
// share.
type task interface {
	run(w, workers int)
}

// team is a persistent set of helper goroutines and one scratch per worker,
// so that a forward pass can use every core without starting goroutines or
// allocating closures. The calling goroutine is worker 0. A team is used by
// one goroutine at a time; close ends its helpers.
//
// Decoding a small model hands out work every microsecond or two, and a
// goroutine asleep on a channel takes several to wake. So a helper checks
// for work spinJobs times (a few microseconds) before it sleeps, and the
// caller as often for its helpers' end before it sleeps until the last
// one tells it: a hand-off then costs a fraction of a microsecond. Spins
// are short so that on a machine busy with other work, where a spinning
// thread takes the core another one waits for, the waste stays small.
// Helpers spin only while each has a processor of its own beside the
// caller's.
type team struct {
	jobs    chan job
	pending atomic.Int32  // jobs handed out and not yet done
	done    chan struct{} // one token per run, from the helper that ends it
	helpers int
	sc      []*scratch

	// the tasks of a forward pass, kept here so that handing one to the
	// helpers converts a pointer to an interface and allocates nothing
	linear linearTask
	attn   attentionTask
}

type job struct {
	t          task
	w, workers int
}

func newTeam() *team {
	return &team{jobs: make(chan job, 64), done: make(chan struct{}, 1)}
}

// scratch returns one scratch per worker, allocating only the first time a
// team is asked for that many.
func (tm *team) scratch(workers int) []*scratch {
	for len(tm.sc) < workers {
		tm.sc = append(tm.sc, newScratch())
	}
	return tm.sc[:workers]
}

// run calls t.run(w, workers) for every worker and returns when all are
// done. Helpers are started the first time they are needed and then wait
// for work on tm.jobs.
func (tm *team) run(workers int, t task) {
	if workers <= 1 {
		t.run(0, 1)
		return
	}
	for ; tm.helpers < workers-1; tm.helpers++ {
		go helper(tm, tm.helpers+1 < runtime.GOMAXPROCS(0))
	}
	tm.pending.Add(int32(workers - 1))
	for w := 1; w < workers; w++ {
		tm.jobs <- job{t, w, workers}
	}
	t.run(0, workers)
	for i := 0; i < spinJobs && tm.pending.Load() != 0; i++ {
	}
	<-tm.done
}

// spinJobs is how many times a helper checks for work, and the caller for
// the helpers' end, before it sleeps.
const spinJobs = 1 << 12

func helper(tm *team, spin bool) {
	for {
		for i := 0; spin && i < spinJobs && len(tm.jobs) == 0; i++ {
		}
		j, ok := <-tm.jobs
		if !ok {
			return
		}
		j.t.run(j.w, j.workers)
		if tm.pending.Add(-1) == 0 {
			tm.done <- struct{}{}
		}
	}
}

// close ends the helpers; the team must not be used afterwards.
func (tm *team) close() {
	close(tm.jobs)
}
