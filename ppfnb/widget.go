package ppfnb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/ppfkit/ppf/ppfnb/agent"
	"github.com/ppfkit/ppf/ppfnb/predictor"
	"github.com/ppfkit/ppf/ppfnb/web"
)

// Widget is an interactive predictor for a notebook output: the page
// that `ppf serve` serves (a slider per layer, the global ratio, the
// predicted perplexity, the agent's policy for a chosen ratio and a
// chart against ratio), with everything inlined in its HTML, the
// predictor's WebAssembly build included, so it runs in the browser with
// no kernel and keeps working in a saved HTML export. Make it the last
// expression of a cell to show it.
type Widget struct {
	ModelID  string // the model the predictor was trained for
	HasAgent bool
	html     string
}

var widgetCount atomic.Int64

// PredictorWidget returns the widget for a predictor file's text (as
// predictor.Save writes it) and, optionally, its agent file's text
// (agent.Save; "" for none). Both are checked here: a damaged file, one
// of another version, or an agent of another model than the predictor
// is an error.
//
//	pj, _ := os.ReadFile("stories260K.predictor.json")
//	aj, _ := os.ReadFile("stories260K.agent.json")
//	w, err := ppfnb.PredictorWidget(string(pj), string(aj))
//	w
//
// Each widget carries the WebAssembly build (about 1.3 MB as base64),
// so a notebook with many of them grows by that much each.
func PredictorWidget(predictorJSON, agentJSON string) (*Widget, error) {
	p, err := predictor.Decode(bytes.NewReader([]byte(predictorJSON)))
	if err != nil {
		return nil, fmt.Errorf("predictor widget: %w", err)
	}
	w := &Widget{ModelID: p.Space().ModelID}
	f := web.Files{Predictor: []byte(predictorJSON)}
	if agentJSON != "" {
		a, err := agent.Decode(bytes.NewReader([]byte(agentJSON)))
		if err != nil {
			return nil, fmt.Errorf("predictor widget: %w", err)
		}
		if err := a.Check(p.Space()); err != nil {
			return nil, fmt.Errorf("predictor widget: the agent is not the predictor's: %w", err)
		}
		f.Agent, w.HasAgent = []byte(agentJSON), true
	}
	// An id unique in the kernel's session and stable for the same files.
	sum := sha256.Sum256([]byte(predictorJSON + "\x00" + agentJSON))
	id := hex.EncodeToString(sum[:4]) + "_" + strconv.FormatInt(widgetCount.Add(1), 10)
	w.html = web.InlineHTML(f, id)
	return w, nil
}

// PredictorWidgetFiles is PredictorWidget for files on disk: a predictor
// file and, optionally, its agent file ("" for none).
func PredictorWidgetFiles(predictorPath, agentPath string) (*Widget, error) {
	pj, err := os.ReadFile(predictorPath)
	if err != nil {
		return nil, fmt.Errorf("predictor widget: %w", err)
	}
	var aj []byte
	if agentPath != "" {
		if aj, err = os.ReadFile(agentPath); err != nil {
			return nil, fmt.Errorf("predictor widget: %w", err)
		}
	}
	return PredictorWidget(string(pj), string(aj))
}

// HTML returns the widget's self-contained HTML (display.HTMLer).
func (w *Widget) HTML() string {
	if w == nil {
		return "<p><b>No predictor widget</b>: PredictorWidget returned an error; print it to see why.</p>"
	}
	return w.html
}

// String describes the widget in plain text, for outputs without HTML.
func (w *Widget) String() string {
	if w == nil {
		return "no predictor widget (PredictorWidget returned an error)"
	}
	agentNote := "no agent"
	if w.HasAgent {
		agentNote = "with its agent"
	}
	return fmt.Sprintf("predictor widget for model %s, %s (shown as HTML in a notebook)", w.ModelID, agentNote)
}
