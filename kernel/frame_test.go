package kernel

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel/internal/client"
	"github.com/ppfkit/ppf/kernel/transport"
)

// A peer that declares a 2^40-byte frame after the ZMTP greeting (no key
// needed) is disconnected; the kernel lives on and serves its clients.
func TestHugeFrameHeaderIsRefused(t *testing.T) {
	info := transport.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: "a-secret-key", SignatureScheme: "hmac-sha256"}
	ready := make(chan [5]int, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- Serve(ctx, info, Options{Ready: func(p [5]int) { ready <- p }}) }()
	var ports [5]int
	select {
	case ports = <-ready:
	case err := <-done:
		t.Fatalf("kernel did not start: %v", err)
	}
	for _, port := range ports[:4] { // shell, control, stdin, iopub: hb too below
		attack(t, port)
	}
	attack(t, ports[4])
	select {
	case err := <-done:
		t.Fatalf("the kernel stopped: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort, info.HBPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	c, err := client.Dial(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WaitReady(timeout); err != nil {
		t.Fatalf("after the attack: %v", err)
	}
	rep, _, err := c.Request(transport.Shell, "execute_request", map[string]any{"code": "1 + 1"}, timeout)
	if err != nil || content(t, rep)["status"] != "ok" {
		t.Fatalf("after the attack: %v %v", err, rep)
	}
}

// attack sends a ZMTP 3.0 greeting (NULL mechanism) and then a frame
// header declaring 2^40 bytes, and expects the connection closed.
func attack(t *testing.T, port int) {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xff, 0x7f, 3
	copy(greeting[12:], "NULL")
	frame := make([]byte, 9)
	frame[0] = 0x02 // a long frame
	binary.BigEndian.PutUint64(frame[1:], 1<<40)
	conn.Write(greeting)
	conn.Write(frame)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	// The kernel's greeting may come first; then the connection must end.
	if _, err := io.Copy(io.Discard, conn); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("port %d: the connection stayed open after a 2^40-byte frame header", port)
		}
	}
}
