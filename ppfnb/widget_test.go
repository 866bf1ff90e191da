package ppfnb_test

import (
	"strings"
	"testing"

	"github.com/ppfkit/ppf/ppfnb"
	"github.com/ppfkit/ppf/ppfnb/display"
	"github.com/ppfkit/ppf/ppfnb/web"
)

func TestPredictorWidget(t *testing.T) {
	demo := web.Demo()
	pj, aj := string(demo.Predictor), string(demo.Agent)
	w, err := ppfnb.PredictorWidget(pj, aj)
	if err != nil {
		t.Fatal(err)
	}
	if w.ModelID != "stories260K-synthetic" || !w.HasAgent {
		t.Errorf("widget %v", w)
	}
	b := display.Bundle(w)
	h, _ := b["text/html"].(string)
	if !strings.Contains(h, "ppfPage(") || !strings.Contains(h, "ppfGunzipBase64(") || !strings.Contains(b["text/plain"].(string), "stories260K-synthetic") {
		t.Errorf("bundle: text %q, %d bytes of HTML", b["text/plain"], len(h))
	}
	// Two widgets get two ids.
	w2, err := ppfnb.PredictorWidget(pj, "")
	if err != nil || w2.HasAgent || w2.HTML()[:60] == w.HTML()[:60] {
		t.Errorf("second widget: %v; its HTML starts %q", err, w2.HTML()[:60])
	}

	other := strings.ReplaceAll(aj, `"stories260K-synthetic"`, `"llama-7b"`)
	for name, c := range map[string][2]string{
		"malformed predictor":    {"{", ""},
		"predictor version":      {strings.Replace(pj, `"version": 1`, `"version": 9`, 1), ""},
		"agent as predictor":     {aj, ""},
		"malformed agent":        {pj, "[]"},
		"agent of another model": {pj, other},
	} {
		w, err := ppfnb.PredictorWidget(c[0], c[1])
		if err == nil || !strings.HasPrefix(err.Error(), "predictor widget: ") {
			t.Errorf("%s: error %v", name, err)
		}
		if !strings.Contains(w.HTML(), "PredictorWidget returned an error") {
			t.Errorf("%s: a nil widget's HTML: %q", name, w.HTML())
		}
	}
	if _, err := ppfnb.PredictorWidgetFiles("no/such.predictor.json", ""); err == nil {
		t.Error("a missing file gave no error")
	}
}
