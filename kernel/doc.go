// Package kernel is PPF's Jupyter kernel: Go cells, interpreted by yaegi,
// that call package ppfnb compiled in, with rich output (HTML, Markdown,
// SVG, PNG, tables, progress bars updated in place, package ppfnb/display),
// interrupts and input. It speaks Jupyter messaging protocol 5.3.
//
// It is built in three layers, one package each, as GoNB is:
//
//   - transport: the ZeroMQ sockets (pure Go, go-zeromq/zmq4), the wire
//     format, HMAC-SHA256 signing and the heartbeat;
//   - dispatch: routing by msg_type, busy/idle status, replies on the
//     socket a request came from, stop_on_error;
//   - cell: the interpreter and its state, publishing through an
//     interface, without knowing the transport.
//
// This package wires them together (Run) and writes the kernelspec that
// makes Jupyter list the kernel (Install). Command ppf-kernel is its thin
// binary.
package kernel
