//go:build !unix

package kernel

// notifyInterrupt calls interrupt on each SIGINT (Jupyter's default
// interrupt_mode "signal"), until stop is called. Without POSIX signals it
// does nothing: interrupt_request on the control channel still works.
func notifyInterrupt(interrupt func()) (stop func()) {
	return func() {}
}
