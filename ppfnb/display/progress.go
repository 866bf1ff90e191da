package display

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"
)

// Progress is a progress bar shown in place: each Update replaces it, at
// most ten times a second (the last step always shows).
type Progress struct {
	out   *Output
	id    string
	label string
	start time.Time

	mu   sync.Mutex
	last time.Time
}

// NewProgress shows an empty progress bar named label. Its Update method
// has the signature of native.EvalOptions.Progress.
func (o *Output) NewProgress(label string) *Progress {
	p := &Progress{out: o, id: o.NewID(), label: label, start: time.Now()}
	p.show(0, 0)
	return p
}

// Update shows done steps out of total.
func (p *Progress) Update(done, total int) {
	p.mu.Lock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		p.mu.Unlock()
		return
	}
	p.last = now
	p.mu.Unlock()
	p.show(done, total)
}

func (p *Progress) show(done, total int) {
	frac := 0.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	elapsed := time.Since(p.start).Round(100 * time.Millisecond)
	status := fmt.Sprintf("%d/%d (%.0f%%) %v", done, total, 100*frac, elapsed)
	const width = 30
	n := int(frac * width)
	text := fmt.Sprintf("%s [%s%s] %s", p.label, strings.Repeat("#", n), strings.Repeat(".", width-n), status)
	h := fmt.Sprintf(`<div><span>%s</span> <progress value="%d" max="%d" style="width:20em"></progress> <span>%s</span></div>`,
		html.EscapeString(p.label), done, max(total, 1), html.EscapeString(status))
	p.out.Update(Data{ID: p.id, MIME: map[string]any{MIMEHTML: h, MIMEText: text}})
}
