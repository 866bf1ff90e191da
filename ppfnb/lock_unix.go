//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ppfnb

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an advisory exclusive lock on f without waiting; it is
// released when f is closed (or the process ends).
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return nil
}
