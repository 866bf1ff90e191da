package transport

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Channel names one of the kernel's sockets.
type Channel int

// The kernel's channels.
const (
	Shell Channel = iota
	Control
	Stdin
	IOPub
	Heartbeat
)

func (c Channel) String() string {
	return [...]string{"shell", "control", "stdin", "iopub", "heartbeat"}[c]
}

// Received is a message that arrived on a channel.
type Received struct {
	Channel Channel
	Msg     Message
}

// Sockets are the kernel's bound sockets. Send is safe for concurrent use.
type Sockets struct {
	signer  Signer
	session string
	logger  *log.Logger

	closed  atomic.Bool // set by Close: receive errors are expected then
	sockets [5]zmq4.Socket
	mu      [5]sync.Mutex // serializes sends on each socket
	ports   [5]int
	recent  recentIDs // message ids received, against replays
	guards  [5]*frameGuard
}

// Listen binds the five sockets to the addresses in info. It returns once
// they are bound; Serve then delivers what arrives. Port 0 in info binds a
// free port (see Ports). Errors go to logger.
func Listen(ctx context.Context, info ConnectionInfo, logger *log.Logger) (*Sockets, error) {
	s := &Sockets{signer: NewSigner(info.Key), session: NewID(), logger: logger}
	s.sockets[Shell] = zmq4.NewRouter(ctx)
	s.sockets[Control] = zmq4.NewRouter(ctx)
	s.sockets[Stdin] = zmq4.NewRouter(ctx)
	s.sockets[IOPub] = zmq4.NewPub(ctx)
	s.sockets[Heartbeat] = zmq4.NewRep(ctx)
	ports := [5]int{info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort, info.HBPort}
	for c, sck := range s.sockets {
		public := net.JoinHostPort(info.IP, strconv.Itoa(ports[c]))
		g, err := guardedListen(sck, public, Channel(c).String(), logger)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("binding the %s socket to %s: %w (is another kernel using the port?)", Channel(c), public, err)
		}
		s.guards[c] = g
		s.ports[c] = g.port()
	}
	return s, nil
}

// Ports returns the bound ports in the order shell, control, stdin, iopub, hb.
func (s *Sockets) Ports() [5]int { return s.ports }

// Session is the kernel's session id, used in the headers it sends.
func (s *Sockets) Session() string { return s.session }

// linger is how long Close leaves the PUB socket to send what it has
// queued: zmq4 sends iopub messages from a queue of its own, and closing
// drops them (the last status idle, say).
const linger = 100 * time.Millisecond

// Close closes all sockets.
func (s *Sockets) Close() error {
	time.Sleep(linger)
	s.closed.Store(true)
	var errs []error
	for _, sck := range s.sockets {
		if sck != nil {
			errs = append(errs, sck.Close())
		}
	}
	for _, g := range s.guards {
		if g != nil {
			errs = append(errs, g.close())
		}
	}
	return errors.Join(errs...)
}

// Serve answers heartbeats and delivers every correctly signed message that
// arrives on shell, control and stdin to out, until ctx is done or the
// sockets are closed. Messages with a bad signature are logged and dropped.
func (s *Sockets) Serve(ctx context.Context, out chan<- Received) {
	var wg sync.WaitGroup
	for _, c := range []Channel{Shell, Control, Stdin} {
		wg.Go(func() { s.receive(ctx, c, out) })
	}
	wg.Go(func() { s.heartbeat(ctx) })
	wg.Wait()
}

func (s *Sockets) receive(ctx context.Context, c Channel, out chan<- Received) {
	for {
		raw, err := s.sockets[c].Recv()
		if err != nil {
			if ctx.Err() == nil && !s.closed.Load() {
				s.logger.Printf("%s socket: %v", c, err)
			}
			return
		}
		msg, err := s.signer.Decode(raw.Frames)
		if err != nil {
			s.logger.Printf("%s socket: dropping a message: %v", c, err)
			continue
		}
		if s.signer.Signs() && !s.recent.first(msg.signature) {
			// A signed message seen before is a replay: the protocol's
			// guidance is to reject it. The signature covers the whole
			// header (msg_id and date) and the content, so a replay is
			// the same signature; two messages that merely share a
			// msg_id (jupyter_client's KernelManager and its client
			// count msg_ids separately in one session) both pass.
			s.logger.Printf("%s socket: dropping a replayed message (msg_id %q seen before)", c, msg.Header.MsgID)
			continue
		}
		select {
		case out <- Received{Channel: c, Msg: msg}:
		case <-ctx.Done():
			return
		}
	}
}

// recentIDs remembers the signatures of the last messages received, to
// reject replays.
type recentIDs struct {
	mu   sync.Mutex
	set  map[string]bool
	ring []string
	next int
}

// replayWindow is how many message ids are remembered.
const replayWindow = 1 << 14

// first reports whether id has not been seen among the recent ids, and
// records it.
func (r *recentIDs) first(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set, r.ring = map[string]bool{}, make([]string, replayWindow)
	}
	if r.set[id] {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next], r.set[id] = id, true
	r.next = (r.next + 1) % len(r.ring)
	return true
}

// heartbeat echoes every ping, so that the client knows the kernel is alive.
func (s *Sockets) heartbeat(ctx context.Context) {
	for {
		msg, err := s.sockets[Heartbeat].Recv()
		if err != nil {
			return
		}
		if err := s.sockets[Heartbeat].Send(msg); err != nil && ctx.Err() == nil {
			s.logger.Printf("heartbeat: %v", err)
		}
	}
}

// Send signs msg and sends it on channel c. On iopub the message's type is
// its topic.
func (s *Sockets) Send(c Channel, msg Message) error {
	if c == IOPub {
		msg.Identities = [][]byte{[]byte("kernel." + s.session + "." + msg.Header.MsgType)}
	}
	frames, err := s.signer.Encode(msg)
	if err != nil {
		return err
	}
	s.mu[c].Lock()
	defer s.mu[c].Unlock()
	if err := s.sockets[c].SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("sending %s on %s: %w", msg.Header.MsgType, c, err)
	}
	return nil
}

// NewMessage is NewMessage in this kernel's session.
func (s *Sockets) NewMessage(msgType string, parent *Message, content any) (Message, error) {
	return NewMessage(s.session, msgType, parent, content)
}
