package kernel

import (
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel/transport"
)

// A signed request sent again (a replay of captured frames) is dropped,
// not run twice.
func TestReplayedRequestIsDropped(t *testing.T) {
	c, _ := startKernel(t)
	m, err := transport.NewMessage("replaying-client", "execute_request", nil, map[string]any{"code": `1 + 1`, "stop_on_error": false})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMessage(transport.Shell, m); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Reply(transport.Shell, m.Header.MsgID, timeout); err != nil || content(t, rep)["status"] != "ok" {
		t.Fatalf("first send: %v %v", err, rep)
	}
	if err := c.SendMessage(transport.Shell, m); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Reply(transport.Shell, m.Header.MsgID, time.Second); err == nil {
		t.Fatalf("the replayed request ran again: %s", rep.Content)
	}
	// The kernel still answers fresh requests.
	id, err := c.Send(transport.Shell, "execute_request", map[string]any{"code": `2 + 2`})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Reply(transport.Shell, id, timeout); err != nil || content(t, rep)["status"] != "ok" {
		t.Fatalf("after the replay: %v %v", err, rep)
	}
}

// An execute_request whose content is not a cell gets an error reply,
// not an empty cell's "ok".
func TestMalformedExecuteContent(t *testing.T) {
	c, _ := startKernel(t)
	for _, body := range []any{map[string]any{"code": 5}, map[string]any{"silent": true}, []int{1}} {
		id, err := c.Send(transport.Shell, "execute_request", body)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Reply(transport.Shell, id, timeout)
		if err != nil {
			t.Fatal(err)
		}
		got := content(t, rep)
		if got["status"] != "error" || got["ename"] != "BadRequest" || !strings.Contains(got["evalue"].(string), "malformed content") {
			t.Errorf("%v: reply %v", body, got)
		}
	}
}

// Two different requests that share a msg_id (jupyter_client's
// KernelManager and its client number their messages separately in one
// session) are both answered: only the same signed message is a replay.
func TestSameMsgIDIsNotAReplay(t *testing.T) {
	c, _ := startKernel(t)
	first, err := transport.NewMessage("client", "execute_request", nil, map[string]any{"code": `1 + 1`})
	if err != nil {
		t.Fatal(err)
	}
	second, err := transport.NewMessage("client", "execute_request", nil, map[string]any{"code": `2 + 3`})
	if err != nil {
		t.Fatal(err)
	}
	second.Header.MsgID = first.Header.MsgID
	for _, m := range []transport.Message{first, second} {
		if err := c.SendMessage(transport.Shell, m); err != nil {
			t.Fatal(err)
		}
		if rep, err := c.Reply(transport.Shell, m.Header.MsgID, timeout); err != nil || content(t, rep)["status"] != "ok" {
			t.Fatalf("request %s: %v %v", m.Content, err, rep)
		}
	}
}
