package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ppfkit/ppf/kernel/cell"
	"github.com/ppfkit/ppf/kernel/transport"
	"github.com/ppfkit/ppf/ppfnb/display"
)

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      bool              `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

// executeContent decodes an execute_request's content, which must have a
// string "code".
func executeContent(raw []byte, req *executeRequest) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fmt.Errorf("malformed content: %v", err)
	}
	if _, ok := probe["code"]; !ok {
		return errors.New(`malformed content: no "code"`)
	}
	if err := json.Unmarshal(raw, req); err != nil {
		return fmt.Errorf("malformed content: %v", err)
	}
	return nil
}

func (k *Kernel) execute(ctx context.Context, r transport.Received) {
	var req executeRequest
	if err := executeContent(r.Msg.Content, &req); err != nil {
		// Running an empty cell and saying "ok" would hide the client's bug.
		k.logger.Printf("execute_request: %v", err)
		k.reply(r, map[string]any{"status": "error", "execution_count": k.executionCount(),
			"ename": "BadRequest", "evalue": err.Error(), "traceback": []string{"BadRequest: " + err.Error()}})
		return
	}
	store := (req.StoreHistory == nil || *req.StoreHistory) && !req.Silent
	k.mu.Lock()
	if store {
		k.count++
		k.history = append(k.history, req.Code)
	}
	count := k.count
	k.mu.Unlock()
	if !req.Silent {
		k.send(transport.IOPub, "execute_input", &r.Msg, map[string]any{"code": req.Code, "execution_count": count})
	}
	pub := &publisher{k: k, ctx: ctx, parent: &r.Msg, count: count, silent: req.Silent, allowStdin: req.AllowStdin}
	err := k.engine.Execute(ctx, req.Code, pub)
	if err != nil {
		// The requests to abort are those queued before the client can
		// have read this error: counted before the reply goes out, so that
		// one sent in answer to it runs.
		queued := len(k.shell)
		k.reply(r, map[string]any{"status": "error", "execution_count": count,
			"ename": err.Name, "evalue": err.Value, "traceback": err.Traceback})
		if req.StopOnError == nil || *req.StopOnError {
			k.abortQueued(ctx, queued)
		}
		return
	}
	// user_expressions are not evaluated (each would be a cell of its
	// own); each gets an error saying so.
	ue := map[string]any{}
	for name := range req.UserExpressions {
		ue[name] = map[string]any{"status": "error", "ename": "NotSupported",
			"evalue": "the PPF kernel does not evaluate user_expressions: print the value in the cell", "traceback": []string{}}
	}
	if pub.payload == nil {
		pub.payload = []any{}
	}
	k.reply(r, map[string]any{"status": "ok", "execution_count": count, "user_expressions": ue, "payload": pub.payload})
}

// publisher sends one execute request's outputs on iopub, and its input
// requests on stdin.
type publisher struct {
	k          *Kernel
	ctx        context.Context
	parent     *transport.Message
	count      int
	silent     bool
	allowStdin bool
	payload    []any
}

func (p *publisher) Stream(name, text string) {
	p.k.send(transport.IOPub, "stream", p.parent, map[string]string{"name": name, "text": text})
}

func (p *publisher) Display(d display.Data, update bool) {
	t := "display_data"
	if update {
		t = "update_display_data"
	}
	transient := map[string]any{}
	if d.ID != "" {
		transient["display_id"] = d.ID
	}
	p.k.send(transport.IOPub, t, p.parent, map[string]any{"data": d.MIME, "metadata": orEmpty(d.Metadata), "transient": transient})
}

func (p *publisher) Clear(wait bool) {
	p.k.send(transport.IOPub, "clear_output", p.parent, map[string]any{"wait": wait})
}

// Page keeps text for the execute_reply's payload, which frontends show
// in their pager.
func (p *publisher) Page(text string) {
	p.payload = append(p.payload, map[string]any{"source": "page", "data": map[string]any{"text/plain": text}, "start": 0})
}

func (p *publisher) Result(d display.Data) {
	if p.silent {
		return
	}
	p.k.send(transport.IOPub, "execute_result", p.parent, map[string]any{"execution_count": p.count,
		"data": d.MIME, "metadata": orEmpty(d.Metadata)})
}

func (p *publisher) Error(e *cell.Error) {
	p.k.send(transport.IOPub, "error", p.parent, map[string]any{"ename": e.Name, "evalue": e.Value, "traceback": e.Traceback})
}

// errNoStdin is returned to a cell that reads input when the frontend
// cannot answer.
var errNoStdin = errors.New("this frontend does not accept input (allow_stdin is false): pass the value in the cell instead")

// Input sends an input_request on stdin, routed to the client that sent
// the execute request, and waits for its input_reply (or an interrupt).
func (p *publisher) Input(prompt string, password bool) (string, error) {
	if !p.allowStdin {
		return "", errNoStdin
	}
	for { // drop a stale reply
		select {
		case <-p.k.stdin:
			continue
		default:
		}
		break
	}
	p.k.send(transport.Stdin, "input_request", p.parent, map[string]any{"prompt": prompt, "password": password})
	select {
	case m := <-p.k.stdin:
		var rep struct{ Value string }
		p.k.decode(&m, &rep)
		return rep.Value, nil
	case <-p.k.done:
		return "", errors.New("the kernel is shutting down")
	case <-p.ctx.Done():
		return "", p.ctx.Err()
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

type historyRequest struct {
	HistAccessType string `json:"hist_access_type"` // range, tail or search
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           int    `json:"stop"`
	N              int    `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
	Output         bool   `json:"output"`
}

// historyReply answers a history request from this session's inputs, as
// [session, line, input] triples (session 0 is the current one, as in
// IPython; outputs are not kept).
func (k *Kernel) historyReply(msg *transport.Message) map[string]any {
	var req historyRequest
	k.decode(msg, &req)
	k.mu.Lock()
	hist := append([]string(nil), k.history...)
	k.mu.Unlock()
	var lines []int // 1-based line numbers
	switch req.HistAccessType {
	case "tail":
		n := req.N
		if n <= 0 || n > len(hist) {
			n = len(hist)
		}
		for i := len(hist) - n + 1; i <= len(hist); i++ {
			lines = append(lines, i)
		}
	case "range":
		start, stop := max(req.Start, 1), req.Stop
		if stop <= 0 || stop > len(hist)+1 {
			stop = len(hist) + 1
		}
		for i := start; i < stop; i++ {
			lines = append(lines, i)
		}
	case "search":
		re := glob(req.Pattern)
		seen := map[string]bool{}
		for i := len(hist); i >= 1; i-- {
			if re.MatchString(hist[i-1]) && !(req.Unique && seen[hist[i-1]]) {
				seen[hist[i-1]] = true
				lines = append([]int{i}, lines...)
			}
			if req.N > 0 && len(lines) == req.N {
				break
			}
		}
	default:
		return map[string]any{"status": "error", "ename": "BadRequest", "traceback": []string{},
			"evalue": fmt.Sprintf("hist_access_type %q: use range, tail or search", req.HistAccessType), "history": []any{}}
	}
	entries := []any{}
	for _, i := range lines {
		if req.Output {
			entries = append(entries, []any{0, i, []any{hist[i-1], nil}})
		} else {
			entries = append(entries, []any{0, i, hist[i-1]})
		}
	}
	return map[string]any{"status": "ok", "history": entries}
}

// glob compiles a history search pattern: * matches any text, newlines
// included, ? one character; an empty pattern matches everything.
func glob(pattern string) *regexp.Regexp {
	if pattern == "" {
		pattern = "*"
	}
	var b strings.Builder
	b.WriteString("(?s)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
