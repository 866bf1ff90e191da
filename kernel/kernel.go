package kernel

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"

	"github.com/ppfkit/ppf/kernel/cell"
	"github.com/ppfkit/ppf/kernel/dispatch"
	"github.com/ppfkit/ppf/kernel/transport"
)

// Options tune Serve.
type Options struct {
	// Log receives the kernel's own messages (nil: discarded).
	Log io.Writer
	// CaptureStdio sends what compiled code writes to the process's
	// standard output and error to the running cell (see captureStdio);
	// the binary sets it, tests do not.
	CaptureStdio bool
	// Ready, when not nil, is called with the bound ports (shell,
	// control, stdin, iopub, hb) once the sockets listen: tests bind
	// port 0 and learn the ports this way.
	Ready func(ports [5]int)
}

// Run serves the kernel described by the connection file, capturing the
// process's standard output and error, until a client asks it to shut
// down (it then returns nil) or ctx is done. SIGINT interrupts the running
// cell instead of stopping the kernel.
func Run(ctx context.Context, connectionFile string) error {
	info, err := transport.ReadConnectionFile(connectionFile)
	if err != nil {
		return err
	}
	return Serve(ctx, info, Options{Log: os.Stderr, CaptureStdio: true})
}

// Serve is Run with the connection already read.
func Serve(ctx context.Context, info transport.ConnectionInfo, opt Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	engine, err := cell.New()
	if err != nil {
		return err
	}
	logw := opt.Log
	if logw == nil {
		logw = io.Discard
	}
	if opt.CaptureStdio {
		orig, sync, restore, err := captureStdio(engine.Stdout(), engine.Stderr())
		if err != nil {
			return err
		}
		defer restore()
		engine.SetOutputSync(sync)
		if logw == os.Stderr {
			logw = orig
			// A crash (a panic in a goroutine that compiled code started,
			// say) goes to the kernel's log, not to the captured
			// descriptor 2, which dies with the process.
			if err := debug.SetCrashOutput(orig, debug.CrashOptions{}); err != nil {
				fmt.Fprintln(orig, "ppf-kernel: crash output stays on descriptor 2:", err)
			}
		}
	}
	logger := log.New(logw, "ppf-kernel: ", log.LstdFlags)
	sockets, err := transport.Listen(ctx, info, logger)
	if err != nil {
		return err
	}
	defer sockets.Close()
	k := dispatch.New(sockets, engine, logger)
	stop := notifyInterrupt(k.Interrupt)
	defer stop()
	if opt.Ready != nil {
		opt.Ready(sockets.Ports())
	}

	in := make(chan transport.Received, 64)
	go sockets.Serve(ctx, in)
	if err := k.Run(ctx, in); err != nil {
		return fmt.Errorf("kernel stopped: %w", err)
	}
	return nil
}
