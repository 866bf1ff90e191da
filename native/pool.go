package native

import "sync"

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
type team struct {
	jobs    chan job
	wg      sync.WaitGroup
	helpers int
	sc      []*scratch

	// the tasks of a forward pass, kept here so that handing one to the
	// helpers converts a pointer to an interface and allocates nothing
	linear linearTask
	panels panelTask
	attn   attentionTask
}

type job struct {
	t          task
	w, workers int
}

func newTeam() *team {
	return &team{jobs: make(chan job, 64)}
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
		go helper(tm.jobs, &tm.wg)
	}
	tm.wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		tm.jobs <- job{t, w, workers}
	}
	t.run(0, workers)
	tm.wg.Wait()
}

func helper(jobs <-chan job, wg *sync.WaitGroup) {
	for j := range jobs {
		j.t.run(j.w, j.workers)
		wg.Done()
	}
}

// close ends the helpers; the team must not be used afterwards.
func (tm *team) close() {
	close(tm.jobs)
}
