package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
)

// The ZeroMQ library allocates a frame of whatever size its header
// declares, before reading it: a peer that can reach a port (no key
// needed, the handshake comes first) could declare 2^40 bytes and end the
// kernel. So the kernel's ZeroMQ sockets listen on loopback ports of their
// own, and each public port is a front that passes bytes through while
// reading the ZMTP 3 framing of what clients send, closing a connection
// that declares a frame over maxFrame. What the kernel sends is copied
// as it is.

// maxFrame is the largest frame a client may send: far above any Jupyter
// message (a cell's code, a comm message with buffers).
const maxFrame = 256 << 20

// errFrameTooLarge closes a connection that declares a larger frame.
var errFrameTooLarge = errors.New("frame larger than the kernel accepts")

// frameGuard is the public front of one socket.
type frameGuard struct {
	ln      net.Listener
	backend string // the ZeroMQ socket's loopback address
	max     uint64
	logger  *log.Logger
	name    string
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
}

func newFrameGuard(public, backend, name string, max uint64, logger *log.Logger) (*frameGuard, error) {
	ln, err := net.Listen("tcp", public)
	if err != nil {
		return nil, err
	}
	g := &frameGuard{ln: ln, backend: backend, max: max, logger: logger, name: name, conns: map[net.Conn]bool{}}
	g.wg.Go(g.accept)
	return g, nil
}

func (g *frameGuard) port() int { return g.ln.Addr().(*net.TCPAddr).Port }

func (g *frameGuard) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.wg.Go(func() { g.proxy(c) })
	}
}

func (g *frameGuard) track(c net.Conn, on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if on {
		g.conns[c] = true
	} else {
		delete(g.conns, c)
	}
}

func (g *frameGuard) proxy(client net.Conn) {
	defer client.Close()
	back, err := net.Dial("tcp", g.backend)
	if err != nil {
		g.logger.Printf("%s socket: %v", g.name, err)
		return
	}
	defer back.Close()
	g.track(client, true)
	defer g.track(client, false)
	go func() {
		io.Copy(client, back)
		client.Close()
	}()
	if err := copyFrames(back, client, g.max); errors.Is(err, errFrameTooLarge) {
		g.logger.Printf("%s socket: closing a connection from %s: %v", g.name, client.RemoteAddr(), err)
	}
}

// close stops accepting and ends the open connections.
func (g *frameGuard) close() error {
	err := g.ln.Close()
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return err
}

// ZMTP 3 frame flags.
const (
	zmtpLong = 0x02 // an 8-byte size follows, not 1 byte
)

// copyFrames copies a client's ZMTP 3 stream to dst: the 64-byte greeting,
// then frames (commands and messages alike: a flags byte, a size, the
// body), refusing a frame whose declared size exceeds max before any of
// it is read.
func copyFrames(dst io.Writer, src io.Reader, max uint64) error {
	r := bufio.NewReader(src)
	if _, err := io.CopyN(dst, r, 64); err != nil {
		return err
	}
	var head [9]byte
	for {
		flags, err := r.ReadByte()
		if err != nil {
			return err
		}
		head[0] = flags
		n := 2
		var size uint64
		if flags&zmtpLong != 0 {
			if _, err := io.ReadFull(r, head[1:9]); err != nil {
				return err
			}
			size, n = binary.BigEndian.Uint64(head[1:9]), 9
		} else {
			b, err := r.ReadByte()
			if err != nil {
				return err
			}
			head[1], size = b, uint64(b)
		}
		if size > max {
			return fmt.Errorf("%w: %d bytes declared, at most %d", errFrameTooLarge, size, max)
		}
		if _, err := dst.Write(head[:n]); err != nil {
			return err
		}
		if _, err := io.CopyN(dst, r, int64(size)); err != nil {
			return err
		}
	}
}

// guardedListen binds the ZeroMQ socket on a loopback port and its front
// on public, returning the front.
func guardedListen(sck interface {
	Listen(string) error
	Addr() net.Addr
}, public, name string, logger *log.Logger) (*frameGuard, error) {
	if err := sck.Listen("tcp://127.0.0.1:0"); err != nil {
		return nil, err
	}
	a, ok := sck.Addr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("the %s socket has no TCP address", name)
	}
	return newFrameGuard(public, a.String(), name, maxFrame, logger)
}
