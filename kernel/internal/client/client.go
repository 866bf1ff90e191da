// Package client is a small Jupyter client in Go, speaking to a kernel
// through real ZeroMQ sockets: the kernel's tests and benchmark use it.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/ppfkit/ppf/kernel/transport"
)

// Client is connected to one kernel.
type Client struct {
	Signer  transport.Signer
	session string
	sockets map[transport.Channel]zmq4.Socket
	boxes   map[transport.Channel]*box
}

// Dial connects to the kernel described by info (ports must be set).
func Dial(ctx context.Context, info transport.ConnectionInfo) (*Client, error) {
	c := &Client{Signer: transport.NewSigner(info.Key), session: transport.NewID(),
		sockets: map[transport.Channel]zmq4.Socket{}, boxes: map[transport.Channel]*box{}}
	id := zmq4.SocketIdentity(c.session)
	c.sockets[transport.Shell] = zmq4.NewDealer(ctx, zmq4.WithID(id))
	c.sockets[transport.Control] = zmq4.NewDealer(ctx, zmq4.WithID(id))
	c.sockets[transport.Stdin] = zmq4.NewDealer(ctx, zmq4.WithID(id))
	c.sockets[transport.IOPub] = zmq4.NewSub(ctx)
	c.sockets[transport.Heartbeat] = zmq4.NewReq(ctx)
	ports := map[transport.Channel]int{transport.Shell: info.ShellPort, transport.Control: info.ControlPort,
		transport.Stdin: info.StdinPort, transport.IOPub: info.IOPubPort, transport.Heartbeat: info.HBPort}
	for ch, s := range c.sockets {
		if err := s.Dial(fmt.Sprintf("tcp://%s:%d", info.IP, ports[ch])); err != nil {
			c.Close()
			return nil, fmt.Errorf("dialing %s: %w", ch, err)
		}
	}
	if err := c.sockets[transport.IOPub].SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return nil, err
	}
	for _, ch := range []transport.Channel{transport.Shell, transport.Control, transport.Stdin, transport.IOPub} {
		b := newBox()
		c.boxes[ch] = b
		go c.receive(c.sockets[ch], b)
	}
	return c, nil
}

// Close closes the sockets.
func (c *Client) Close() {
	for _, s := range c.sockets {
		s.Close()
	}
}

func (c *Client) receive(s zmq4.Socket, b *box) {
	for {
		raw, err := s.Recv()
		if err != nil {
			return
		}
		m, err := c.Signer.Decode(raw.Frames)
		if err != nil {
			continue
		}
		b.add(m)
	}
}

// Send sends a request of msgType on ch and returns its msg_id.
func (c *Client) Send(ch transport.Channel, msgType string, content any) (string, error) {
	m, err := transport.NewMessage(c.session, msgType, nil, content)
	if err != nil {
		return "", err
	}
	m.Header.Username = "test"
	return m.Header.MsgID, c.SendMessage(ch, m)
}

// SendMessage signs and sends m on ch.
func (c *Client) SendMessage(ch transport.Channel, m transport.Message) error {
	frames, err := c.Signer.Encode(m)
	if err != nil {
		return err
	}
	return c.sockets[ch].SendMulti(zmq4.NewMsgFrom(frames...))
}

// SendFrames sends raw frames on ch (for tests of malformed messages).
func (c *Client) SendFrames(ch transport.Channel, frames [][]byte) error {
	return c.sockets[ch].SendMulti(zmq4.NewMsgFrom(frames...))
}

// Parent returns the msg_id of m's parent.
func Parent(m transport.Message) string {
	var h transport.Header
	json.Unmarshal(m.ParentHeader, &h)
	return h.MsgID
}

// Reply waits for the message on ch whose parent is id.
func (c *Client) Reply(ch transport.Channel, id string, timeout time.Duration) (transport.Message, error) {
	m, ok := c.boxes[ch].take(func(m transport.Message) bool { return Parent(m) == id }, timeout)
	if !ok {
		return m, fmt.Errorf("no reply to %s on %s within %v", id, ch, timeout)
	}
	return m, nil
}

// Next waits for any message on ch (stdin's input_request, say).
func (c *Client) Next(ch transport.Channel, timeout time.Duration) (transport.Message, error) {
	m, ok := c.boxes[ch].take(func(transport.Message) bool { return true }, timeout)
	if !ok {
		return m, fmt.Errorf("nothing on %s within %v", ch, timeout)
	}
	return m, nil
}

// Outputs returns the iopub messages whose parent is id, up to and
// including status idle.
func (c *Client) Outputs(id string, timeout time.Duration) ([]transport.Message, error) {
	var out []transport.Message
	deadline := time.Now().Add(timeout)
	for {
		m, ok := c.boxes[transport.IOPub].take(func(m transport.Message) bool { return Parent(m) == id }, time.Until(deadline))
		if !ok {
			return out, fmt.Errorf("no idle status for %s within %v (got %d messages)", id, timeout, len(out))
		}
		out = append(out, m)
		if m.Header.MsgType == "status" && string(m.Content) == `{"execution_state":"idle"}` {
			return out, nil
		}
	}
}

// Request sends a request and returns its reply and its iopub messages.
func (c *Client) Request(ch transport.Channel, msgType string, content any, timeout time.Duration) (transport.Message, []transport.Message, error) {
	id, err := c.Send(ch, msgType, content)
	if err != nil {
		return transport.Message{}, nil, err
	}
	rep, err := c.Reply(ch, id, timeout)
	if err != nil {
		return rep, nil, err
	}
	out, err := c.Outputs(id, timeout)
	return rep, out, err
}

// WaitReady sends kernel_info requests until the kernel answers and its
// iopub messages arrive (a SUB socket misses what is published before it
// connects), and returns the reply.
func (c *Client) WaitReady(timeout time.Duration) (transport.Message, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		id, err := c.Send(transport.Shell, "kernel_info_request", map[string]any{})
		if err != nil {
			return transport.Message{}, err
		}
		rep, err := c.Reply(transport.Shell, id, time.Until(deadline))
		if err != nil {
			return rep, err
		}
		if _, ok := c.boxes[transport.IOPub].take(func(m transport.Message) bool { return Parent(m) == id }, 200*time.Millisecond); ok {
			c.Outputs(id, time.Second) // the rest of its status messages
			return rep, nil
		}
	}
	return transport.Message{}, errors.New("the kernel did not become ready")
}

// Heartbeat sends a ping and waits for its echo.
func (c *Client) Heartbeat(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() {
		if err := c.sockets[transport.Heartbeat].Send(zmq4.NewMsgString("ping")); err != nil {
			done <- err
			return
		}
		m, err := c.sockets[transport.Heartbeat].Recv()
		if err == nil && string(m.Bytes()) != "ping" {
			err = fmt.Errorf("heartbeat echoed %q", m.Bytes())
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errors.New("no heartbeat")
	}
}

// box holds received messages until a test takes them.
type box struct {
	mu     sync.Mutex
	msgs   []transport.Message
	notify chan struct{}
}

func newBox() *box { return &box{notify: make(chan struct{})} }

func (b *box) add(m transport.Message) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	close(b.notify)
	b.notify = make(chan struct{})
	b.mu.Unlock()
}

func (b *box) take(match func(transport.Message) bool, timeout time.Duration) (transport.Message, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		b.mu.Lock()
		for i, m := range b.msgs {
			if match(m) {
				b.msgs = append(b.msgs[:i], b.msgs[i+1:]...)
				b.mu.Unlock()
				return m, true
			}
		}
		n := b.notify
		b.mu.Unlock()
		select {
		case <-n:
		case <-timer.C:
			return transport.Message{}, false
		}
	}
}
