package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"runtime"
	"strings"
	"sync"

	"github.com/ppfkit/ppf/kernel/cell"
	"github.com/ppfkit/ppf/kernel/transport"
)

// Engine runs cells; *cell.Engine implements it.
type Engine interface {
	Execute(ctx context.Context, code string, pub cell.Publisher) *cell.Error
	Interrupt()
	Complete(code string, cursor int) (matches []string, start, end int)
	Inspect(code string, cursor int) (text string, found bool)
}

// Sender sends messages; *transport.Sockets implements it.
type Sender interface {
	Send(c transport.Channel, msg transport.Message) error
	NewMessage(msgType string, parent *transport.Message, content any) (transport.Message, error)
}

// Kernel routes requests to the engine.
type Kernel struct {
	out    Sender
	engine Engine
	logger *log.Logger

	shell chan transport.Received // shell requests, run in order
	stdin chan transport.Message  // input_reply messages
	done  chan struct{}           // closed on shutdown
	once  sync.Once

	mu      sync.Mutex // guards the fields below
	count   int        // execution_count
	history []string   // inputs, history[i] is line i+1
}

// New returns a Kernel that answers through out and runs cells on engine.
func New(out Sender, engine Engine, logger *log.Logger) *Kernel {
	return &Kernel{
		out: out, engine: engine, logger: logger,
		shell: make(chan transport.Received, 1024),
		stdin: make(chan transport.Message, 1),
		done:  make(chan struct{}),
	}
}

// Run handles the messages from in until a shutdown_request or until ctx
// is done. It returns nil after a shutdown request, else ctx's error.
func (k *Kernel) Run(ctx context.Context, in <-chan transport.Received) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k.status(nil, "starting")
	var wg sync.WaitGroup
	wg.Go(func() { k.runShell(ctx) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	for {
		select {
		case <-k.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case r := <-in:
			switch r.Channel {
			case transport.Shell:
				select {
				case k.shell <- r:
				default:
					k.logger.Printf("shell queue full: dropping %s", r.Msg.Header.MsgType)
				}
			case transport.Control:
				k.handle(ctx, r)
			case transport.Stdin:
				if r.Msg.Header.MsgType == "input_reply" {
					select {
					case k.stdin <- r.Msg:
					default: // nobody asked: drop it
					}
				}
			}
		}
	}
}

// Interrupt stops the running cell (interrupt_request, or SIGINT).
func (k *Kernel) Interrupt() { k.engine.Interrupt() }

// Done is closed after a shutdown request has been answered.
func (k *Kernel) Done() <-chan struct{} { return k.done }

func (k *Kernel) runShell(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-k.shell:
			k.handle(ctx, r)
		}
	}
}

// abortQueued answers the execute requests already queued with status
// "aborted", after a cell failed with stop_on_error; other requests are
// handled as usual. Only what was queued when the cell failed is
// drained: a request that arrives later (the client saw the error and
// sent its next cell) runs normally.
func (k *Kernel) abortQueued(ctx context.Context, n int) {
	for range n {
		r := <-k.shell
		if r.Msg.Header.MsgType != "execute_request" {
			k.handle(ctx, r)
			continue
		}
		k.status(&r.Msg, "busy")
		k.reply(r, map[string]any{"status": "aborted", "execution_count": k.executionCount()})
		k.status(&r.Msg, "idle")
	}
}

// handle answers one request, between busy and idle on iopub.
func (k *Kernel) handle(ctx context.Context, r transport.Received) {
	msg := &r.Msg
	t := msg.Header.MsgType
	if strings.HasPrefix(t, "comm_") && t != "comm_info_request" {
		return // comm_open, comm_msg, comm_close: no comms here, and no reply is due
	}
	k.status(msg, "busy")
	shutdown := false
	switch t {
	case "kernel_info_request":
		k.reply(r, kernelInfo())
	case "execute_request":
		k.execute(ctx, r)
	case "is_complete_request":
		var req struct{ Code string }
		k.decode(msg, &req)
		status, indent := cell.IsComplete(req.Code)
		c := map[string]any{"status": status}
		if status == "incomplete" {
			c["indent"] = indent
		}
		k.reply(r, c)
	case "complete_request":
		var req struct {
			Code      string
			CursorPos int `json:"cursor_pos"`
		}
		k.decode(msg, &req)
		matches, start, end := k.engine.Complete(req.Code, req.CursorPos)
		if matches == nil {
			matches = []string{}
		}
		k.reply(r, map[string]any{"status": "ok", "matches": matches, "cursor_start": start,
			"cursor_end": end, "metadata": map[string]any{}})
	case "inspect_request":
		var req struct {
			Code      string
			CursorPos int `json:"cursor_pos"`
		}
		k.decode(msg, &req)
		text, found := k.engine.Inspect(req.Code, req.CursorPos)
		data := map[string]any{}
		if found {
			data["text/plain"] = text
		}
		k.reply(r, map[string]any{"status": "ok", "found": found, "data": data, "metadata": map[string]any{}})
	case "history_request":
		k.reply(r, k.historyReply(msg))
	case "comm_info_request":
		k.reply(r, map[string]any{"status": "ok", "comms": map[string]any{}})
	case "interrupt_request":
		k.engine.Interrupt()
		k.reply(r, map[string]any{"status": "ok"})
	case "shutdown_request":
		var req struct{ Restart bool }
		k.decode(msg, &req)
		k.engine.Interrupt()
		k.reply(r, map[string]any{"status": "ok", "restart": req.Restart})
		shutdown = true
	default:
		k.logger.Printf("unknown message type %q on %s", t, r.Channel)
		if name, ok := strings.CutSuffix(t, "_request"); ok {
			k.send(r.Channel, name+"_reply", msg, map[string]any{"status": "error", "ename": "UnknownMessageType",
				"evalue": fmt.Sprintf("the PPF kernel does not handle %s", t), "traceback": []string{}})
		}
	}
	k.status(msg, "idle")
	if shutdown {
		k.once.Do(func() { close(k.done) })
	}
}

func kernelInfo() map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       transport.ProtocolVersion,
		"implementation":         "ppf-kernel",
		"implementation_version": "0.1",
		"language_info": map[string]any{
			"name":            "go",
			"version":         strings.TrimPrefix(runtime.Version(), "go"),
			"mimetype":        "text/x-go",
			"file_extension":  ".go",
			"pygments_lexer":  "go",
			"codemirror_mode": "go",
		},
		"banner": "Go (PPF): Go cells interpreted by yaegi, with github.com/ppfkit/ppf/ppfnb and ppfnb/display compiled in",
		"help_links": []map[string]string{
			{"text": "ppfnb", "url": "https://pkg.go.dev/github.com/ppfkit/ppf/ppfnb"},
			{"text": "ppfnb/display", "url": "https://pkg.go.dev/github.com/ppfkit/ppf/ppfnb/display"},
		},
	}
}

func (k *Kernel) decode(msg *transport.Message, v any) {
	if err := json.Unmarshal(msg.Content, v); err != nil {
		k.logger.Printf("%s: bad content: %v", msg.Header.MsgType, err)
	}
}

// reply answers r on the channel it came from.
func (k *Kernel) reply(r transport.Received, content any) {
	t := strings.TrimSuffix(r.Msg.Header.MsgType, "_request") + "_reply"
	k.send(r.Channel, t, &r.Msg, content)
}

func (k *Kernel) send(c transport.Channel, msgType string, parent *transport.Message, content any) {
	m, err := k.out.NewMessage(msgType, parent, content)
	if err == nil {
		err = k.out.Send(c, m)
	}
	if err != nil {
		k.logger.Print(err)
	}
}

func (k *Kernel) status(parent *transport.Message, state string) {
	k.send(transport.IOPub, "status", parent, map[string]string{"execution_state": state})
}

func (k *Kernel) executionCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.count
}
