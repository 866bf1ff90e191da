package kernel

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/kernel/internal/client"
	"github.com/ppfkit/ppf/kernel/transport"
)

const timeout = 20 * time.Second

// startKernel serves a kernel on free loopback ports and returns a client
// connected to it, and a channel that gets Serve's result.
func startKernel(t *testing.T) (*client.Client, <-chan error) {
	t.Helper()
	info := transport.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: "a-secret-key", SignatureScheme: "hmac-sha256"}
	ready := make(chan [5]int, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var logw io.Writer
	if testing.Verbose() {
		logw = os.Stderr
	}
	go func() { done <- Serve(ctx, info, Options{Log: logw, Ready: func(p [5]int) { ready <- p }}) }()
	var ports [5]int
	select {
	case ports = <-ready:
	case err := <-done:
		t.Fatalf("kernel did not start: %v", err)
	}
	info.ShellPort, info.ControlPort, info.StdinPort, info.IOPubPort, info.HBPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	c, err := client.Dial(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
	})
	if _, err := c.WaitReady(timeout); err != nil {
		t.Fatal(err)
	}
	return c, done
}

func content(t *testing.T, m transport.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(m.Content, &c); err != nil {
		t.Fatalf("%s content: %v", m.Header.MsgType, err)
	}
	return c
}

func types(msgs []transport.Message) string {
	var ts []string
	for _, m := range msgs {
		t := m.Header.MsgType
		if t == "status" {
			var c struct {
				ExecutionState string `json:"execution_state"`
			}
			json.Unmarshal(m.Content, &c)
			t = c.ExecutionState
		}
		ts = append(ts, t)
	}
	return strings.Join(ts, " ")
}

func find(msgs []transport.Message, msgType string) []transport.Message {
	var out []transport.Message
	for _, m := range msgs {
		if m.Header.MsgType == msgType {
			out = append(out, m)
		}
	}
	return out
}

func execute(t *testing.T, c *client.Client, code string, extra map[string]any) (map[string]any, []transport.Message) {
	t.Helper()
	req := map[string]any{"code": code, "silent": false, "store_history": true, "allow_stdin": false, "stop_on_error": true}
	for k, v := range extra {
		req[k] = v
	}
	rep, out, err := c.Request(transport.Shell, "execute_request", req, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Header.MsgType != "execute_reply" {
		t.Fatalf("got %s, want execute_reply", rep.Header.MsgType)
	}
	return content(t, rep), out
}

func TestKernelInfoAndHeartbeat(t *testing.T) {
	c, _ := startKernel(t)
	for _, ch := range []transport.Channel{transport.Shell, transport.Control} {
		rep, out, err := c.Request(ch, "kernel_info_request", map[string]any{}, timeout)
		if err != nil {
			t.Fatal(err)
		}
		info := content(t, rep)
		lang := info["language_info"].(map[string]any)
		if rep.Header.MsgType != "kernel_info_reply" || info["protocol_version"] != "5.3" || lang["name"] != "go" {
			t.Errorf("%s: %s %v", ch, rep.Header.MsgType, info)
		}
		if got := types(out); got != "busy idle" {
			t.Errorf("%s: iopub %q, want busy idle", ch, got)
		}
	}
	if err := c.Heartbeat(timeout); err != nil {
		t.Error(err)
	}
}

func TestExecute(t *testing.T) {
	c, _ := startKernel(t)
	rep, out := execute(t, c, `import "fmt"
x := 6 * 7
fmt.Println("hello")
x`, nil)
	if rep["status"] != "ok" || rep["execution_count"] != 1.0 {
		t.Errorf("reply %v", rep)
	}
	if got, want := types(out), "busy execute_input stream execute_result idle"; got != want {
		t.Errorf("iopub %q, want %q", got, want)
	}
	if s := content(t, find(out, "stream")[0]); s["name"] != "stdout" || s["text"] != "hello\n" {
		t.Errorf("stream %v", s)
	}
	res := content(t, find(out, "execute_result")[0])
	if res["execution_count"] != 1.0 || res["data"].(map[string]any)["text/plain"] != "42" {
		t.Errorf("execute_result %v", res)
	}

	// Rich displays, and one updated in place by id.
	rep, out = execute(t, c, `import "github.com/ppfkit/ppf/ppfnb/display"
display.HTML("<b>bold</b>")
id := display.NewID()
display.UpdateMarkdown(id, "step 1")
display.UpdateMarkdown(id, "step 2")`, nil)
	if rep["status"] != "ok" || rep["execution_count"] != 2.0 {
		t.Errorf("reply %v", rep)
	}
	if got, want := types(out), "busy execute_input display_data display_data update_display_data idle"; got != want {
		t.Fatalf("iopub %q, want %q", got, want)
	}
	d := content(t, out[2])["data"].(map[string]any)
	if d["text/html"] != "<b>bold</b>" {
		t.Errorf("display_data %v", d)
	}
	first, upd := content(t, out[3]), content(t, out[4])
	id := first["transient"].(map[string]any)["display_id"]
	if id == nil || upd["transient"].(map[string]any)["display_id"] != id || upd["data"].(map[string]any)["text/markdown"] != "step 2" {
		t.Errorf("update %v after %v", upd, first)
	}

	// A silent cell publishes no execute_input or result and does not count.
	rep, out = execute(t, c, `x`, map[string]any{"silent": true})
	if rep["status"] != "ok" || rep["execution_count"] != 2.0 || types(out) != "busy idle" {
		t.Errorf("silent: %v, %q", rep, types(out))
	}
}

func TestFailingCells(t *testing.T) {
	c, _ := startKernel(t)
	for _, tc := range []struct{ code, ename, evalue, trace string }{
		{`func f() { panic("boom") }
f()`, "Panic", "boom", "line 1: in f"},
		{`import "os"
os.Exit(2)`, "Exit", "os.Exit(2) stopped the cell", ""},
		{`import "log"
log.Fatalf("no %s", "model")`, "Exit", "log.Fatalf stopped the cell", ""},
		{`y := 1 +`, "CompileError", "at the end of the cell: expected operand", ""},
		{`var y int = "text"`, "CompileError", `line 1:13: cannot use "text" (untyped string constant) as int value in variable declaration`, "line 1"},
	} {
		rep, out := execute(t, c, tc.code, nil)
		if rep["status"] != "error" || rep["ename"] != tc.ename || !strings.Contains(rep["evalue"].(string), tc.evalue) {
			t.Errorf("%q: reply %v", tc.code, rep)
		}
		errs := find(out, "error")
		if len(errs) != 1 {
			t.Fatalf("%q: iopub %q", tc.code, types(out))
		}
		tb, _ := json.Marshal(content(t, errs[0])["traceback"])
		if !strings.Contains(string(tb), tc.trace) {
			t.Errorf("%q: traceback %s lacks %q", tc.code, tb, tc.trace)
		}
	}
	// The kernel is still alive, with its state.
	rep, out := execute(t, c, `1 + 1`, nil)
	if rep["status"] != "ok" || len(find(out, "execute_result")) != 1 {
		t.Errorf("after failures: %v %q", rep, types(out))
	}
}

func TestStopOnError(t *testing.T) {
	c, _ := startKernel(t)
	req := func(code string, stop bool) string {
		id, err := c.Send(transport.Shell, "execute_request", map[string]any{"code": code, "store_history": true, "stop_on_error": stop})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	status := func(id string) string {
		rep, err := c.Reply(transport.Shell, id, timeout)
		if err != nil {
			t.Fatal(err)
		}
		return content(t, rep)["status"].(string)
	}
	// The failing cell waits, so that the next two are queued behind it.
	failing := `import "time"
time.Sleep(300 * time.Millisecond)
panic("stop here")`
	a, b, d := req(failing, true), req(`1`, true), req(`2`, true)
	if got := []string{status(a), status(b), status(d)}; strings.Join(got, " ") != "error aborted aborted" {
		t.Errorf("stop_on_error: %v, want error aborted aborted", got)
	}
	a, b = req(failing, false), req(`3`, true)
	if got := []string{status(a), status(b)}; strings.Join(got, " ") != "error ok" {
		t.Errorf("without stop_on_error: %v, want error ok", got)
	}
}

func TestInterrupt(t *testing.T) {
	c, _ := startKernel(t)
	interruptLoop(t, c, "interrupt_request")
	// Long compiled calls see the cancelled context.
	id, _ := c.Send(transport.Shell, "execute_request", map[string]any{"code": `import ("time"; "github.com/ppfkit/ppf/ppfnb/display")
select { case <-display.Context().Done(): panic("cancelled"); case <-time.After(time.Minute): }`})
	time.Sleep(300 * time.Millisecond)
	c.Request(transport.Control, "interrupt_request", map[string]any{}, timeout)
	rep, err := c.Reply(transport.Shell, id, timeout)
	if err != nil || content(t, rep)["status"] != "error" {
		t.Errorf("context: %v %v", err, rep)
	}
}

func TestStdin(t *testing.T) {
	c, _ := startKernel(t)
	id, err := c.Send(transport.Shell, "execute_request", map[string]any{"code": `import "github.com/ppfkit/ppf/ppfnb/display"
name, err := display.Input("your name? ")
"hello " + name`, "allow_stdin": true, "store_history": true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.Next(transport.Stdin, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if r := content(t, req); req.Header.MsgType != "input_request" || r["prompt"] != "your name? " || client.Parent(req) != id {
		t.Fatalf("got %s %v", req.Header.MsgType, r)
	}
	if _, err := c.Send(transport.Stdin, "input_reply", map[string]any{"value": "Ada"}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Outputs(id, timeout)
	if err != nil {
		t.Fatal(err)
	}
	res := find(out, "execute_result")
	if len(res) != 1 || content(t, res[0])["data"].(map[string]any)["text/plain"] != "hello Ada" {
		t.Errorf("iopub %q", types(out))
	}
	// Without allow_stdin, reading fails with a message instead of hanging.
	rep, _ := execute(t, c, `_, err = display.Input("x")
err`, map[string]any{"allow_stdin": false})
	if rep["status"] != "ok" {
		t.Errorf("no stdin: %v", rep)
	}
}

func TestIntrospection(t *testing.T) {
	c, _ := startKernel(t)
	execute(t, c, `import "strings"
answer := 42`, nil)
	ask := func(ch transport.Channel, msgType string, req map[string]any) map[string]any {
		rep, out, err := c.Request(ch, msgType, req, timeout)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(msgType, "_request") + "_reply"; rep.Header.MsgType != want {
			t.Errorf("%s: got %s", msgType, rep.Header.MsgType)
		}
		if types(out) != "busy idle" {
			t.Errorf("%s: iopub %q", msgType, types(out))
		}
		return content(t, rep)
	}
	if r := ask(transport.Shell, "is_complete_request", map[string]any{"code": "func f() {"}); r["status"] != "incomplete" {
		t.Errorf("is_complete: %v", r)
	}
	if r := ask(transport.Shell, "is_complete_request", map[string]any{"code": "answer + 1"}); r["status"] != "complete" {
		t.Errorf("is_complete: %v", r)
	}
	r := ask(transport.Shell, "complete_request", map[string]any{"code": "strings.ToL", "cursor_pos": 11})
	if m, _ := json.Marshal(r["matches"]); !strings.Contains(string(m), `"ToLower"`) || r["cursor_start"] != 8.0 || r["cursor_end"] != 11.0 {
		t.Errorf("complete: %v", r)
	}
	r = ask(transport.Shell, "inspect_request", map[string]any{"code": "answer", "cursor_pos": 3, "detail_level": 0})
	if r["found"] != true || !strings.Contains(r["data"].(map[string]any)["text/plain"].(string), "answer int = 42") {
		t.Errorf("inspect: %v", r)
	}
	if r = ask(transport.Shell, "inspect_request", map[string]any{"code": "nope", "cursor_pos": 2}); r["found"] != false || r["status"] != "ok" {
		t.Errorf("inspect of nothing: %v", r)
	}
	r = ask(transport.Shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 10, "output": false, "raw": true})
	if h, _ := json.Marshal(r["history"]); string(h) != `[[0,1,"import \"strings\"\nanswer := 42"]]` {
		t.Errorf("history: %s", h)
	}
	if r = ask(transport.Shell, "comm_info_request", map[string]any{}); r["status"] != "ok" || len(r["comms"].(map[string]any)) != 0 {
		t.Errorf("comm_info: %v", r)
	}
	if r = ask(transport.Shell, "no_such_request", map[string]any{}); r["status"] != "error" {
		t.Errorf("unknown request: %v", r)
	}
}

func TestBadSignatureIsDropped(t *testing.T) {
	c, _ := startKernel(t)
	m, _ := transport.NewMessage("s", "execute_request", nil, map[string]any{"code": "1"})
	frames, _ := transport.NewSigner("the-wrong-key").Encode(m)
	if err := c.SendFrames(transport.Shell, frames); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Reply(transport.Shell, m.Header.MsgID, 500*time.Millisecond); err == nil {
		t.Fatalf("a badly signed request was answered: %s", rep.Content)
	}
	// A correctly signed one still is.
	if rep, _ := execute(t, c, "1", nil); rep["status"] != "ok" {
		t.Errorf("after a bad signature: %v", rep)
	}
}

func TestShutdown(t *testing.T) {
	c, done := startKernel(t)
	rep, _, err := c.Request(transport.Control, "shutdown_request", map[string]any{"restart": false}, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if r := content(t, rep); rep.Header.MsgType != "shutdown_reply" || r["restart"] != false || r["status"] != "ok" {
		t.Errorf("reply %s %v", rep.Header.MsgType, r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v after shutdown", err)
		}
	case <-time.After(timeout):
		t.Error("the kernel did not stop after shutdown_request")
	}
}

// interruptLoop runs an endless cell and stops it with an interrupt_request
// or a SIGINT.
func interruptLoop(t *testing.T, c *client.Client, how string) {
	t.Helper()
	id, err := c.Send(transport.Shell, "execute_request", map[string]any{"code": "n := 0\nfor { n++ }", "store_history": true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if how == "SIGINT" {
		interruptProcess(t)
	} else if rep, _, err := c.Request(transport.Control, "interrupt_request", map[string]any{}, timeout); err != nil || rep.Header.MsgType != "interrupt_reply" {
		t.Fatalf("interrupt: %v %v", rep.Header.MsgType, err)
	}
	rep, err := c.Reply(transport.Shell, id, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if r := content(t, rep); r["status"] != "error" || r["ename"] != "Interrupted" {
		t.Errorf("%s: reply %v", how, r)
	}
	t.Logf("%s stopped the cell in %v", how, time.Since(start))
}
