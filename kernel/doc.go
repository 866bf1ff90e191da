// Package kernel is PPF's Jupyter kernel: Go cells, interpreted, that call
// package ppfnb, with rich output (tables, plots, progress) and interrupts.
// It will be split in three layers, one package each: transport (ZeroMQ
// sockets, signing, wire format), dispatch (routing by message type) and
// execution (the cell interpreter), as GoNB does. Not built yet.
package kernel
