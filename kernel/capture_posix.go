//go:build unix

package kernel

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// captureStdio sends what the process writes to file descriptors 1 and 2
// (compiled code's fmt.Println, a library's progress bar) to stdout and
// stderr, as ipykernel does, so that it reaches the notebook instead of
// the terminal that started Jupyter. It returns a duplicate of the
// original stderr, for the kernel's own log; sync, which waits until what
// was written so far has been passed on; and restore, which puts the
// descriptors back.
func captureStdio(stdout, stderr io.Writer) (origStderr *os.File, sync func(), restore func(), err error) {
	var pipes []*fdPipe
	restore = func() {
		for _, p := range pipes {
			p.restore()
		}
	}
	for _, s := range []struct {
		fd int
		w  io.Writer
	}{{1, stdout}, {2, stderr}} {
		p, err := newFDPipe(s.fd, s.w)
		if err != nil {
			restore()
			return nil, nil, nil, err
		}
		pipes = append(pipes, p)
	}
	dup, err := unix.Dup(pipes[1].saved)
	if err != nil {
		restore()
		return nil, nil, nil, fmt.Errorf("duplicating stderr: %w", err)
	}
	sync = func() {
		for _, p := range pipes {
			p.sync()
		}
	}
	return os.NewFile(uintptr(dup), "stderr"), sync, restore, nil
}

// mark is written through a pipe to learn when everything before it has
// been read.
var mark = []byte("\x00ppf-kernel-sync\x00")

// fdPipe replaces a descriptor by a pipe whose reader copies to a writer.
type fdPipe struct {
	fd, saved int
	w         *os.File
	marks     chan struct{}
	done      sync.WaitGroup
}

func newFDPipe(fd int, to io.Writer) (*fdPipe, error) {
	saved, err := unix.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("capturing descriptor %d: %w", fd, err)
	}
	r, w, err := os.Pipe()
	if err == nil {
		err = unix.Dup2(int(w.Fd()), fd)
	}
	if err != nil {
		unix.Close(saved)
		return nil, fmt.Errorf("capturing descriptor %d: %w", fd, err)
	}
	p := &fdPipe{fd: fd, saved: saved, w: w, marks: make(chan struct{}, 16)}
	p.done.Go(func() { p.copy(r, to) })
	return p, nil
}

// copy passes on what is read, less the marks, which it reports.
func (p *fdPipe) copy(r *os.File, to io.Writer) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.Index(pending, mark)
			if i < 0 {
				break
			}
			to.Write(pending[:i])
			pending = pending[i+len(mark):]
			select {
			case p.marks <- struct{}{}:
			default:
			}
		}
		// Keep a tail that may be the start of a mark.
		keep := 0
		for k := min(len(mark)-1, len(pending)); k > 0; k-- {
			if bytes.HasSuffix(pending, mark[:k]) {
				keep = k
				break
			}
		}
		if len(pending) > keep {
			to.Write(pending[:len(pending)-keep])
			pending = append(pending[:0], pending[len(pending)-keep:]...)
		}
		if err != nil {
			to.Write(pending)
			return
		}
	}
}

// sync writes a mark and waits (at most a second) until it is read.
func (p *fdPipe) sync() {
	for len(p.marks) > 0 {
		<-p.marks
	}
	if _, err := unix.Write(p.fd, mark); err != nil {
		return
	}
	select {
	case <-p.marks:
	case <-time.After(time.Second):
	}
}

func (p *fdPipe) restore() {
	unix.Dup2(p.saved, p.fd) // the pipe's last writer closes below, so copy ends
	p.w.Close()
	p.done.Wait()
	unix.Close(p.saved)
}
