// Package dispatch is the middle layer of the PPF Jupyter kernel: it routes
// each request that package transport delivers by its msg_type, surrounds
// it with busy and idle status messages on iopub, sends the reply on the
// socket the request came from, and runs cells in order on the execution
// layer (package cell) through the Engine interface.
//
// Shell requests are handled one at a time, in order; control requests
// (kernel_info, interrupt, shutdown) are answered at once, even while a
// cell runs. When a cell fails and its request asked for stop_on_error
// (the default), the execute requests already queued are answered with
// status "aborted" and not run. Every request gets a reply.
package dispatch
