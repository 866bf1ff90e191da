// Package transport is the lowest layer of the PPF Jupyter kernel: it reads
// the connection file, binds the five ZeroMQ sockets (shell, control and
// stdin as ROUTER, iopub as PUB, heartbeat as REP) with the pure-Go
// go-zeromq/zmq4, and turns multipart frames into Messages and back,
// signing each with HMAC-SHA256 and dropping those whose signature does not
// verify.
//
// The wire format is Jupyter messaging protocol 5.3:
//
//	[routing identities...] "<IDS|MSG>" signature header parent_header metadata content [buffers...]
//
// where signature is the hex HMAC-SHA256 of the four JSON frames that
// follow it, keyed by the connection file's key (no signature when the key
// is empty).
package transport
