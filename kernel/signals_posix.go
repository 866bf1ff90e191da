//go:build unix

package kernel

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyInterrupt calls interrupt on each SIGINT (Jupyter's default
// interrupt_mode "signal"), until stop is called.
func notifyInterrupt(interrupt func()) (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-c:
				interrupt()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(c)
		close(done)
	}
}
