//go:build prunetable

package prune

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppfkit/ppf/native"
)

// TestReadmeTable measures docs/pruning.md's table: perplexity of the
// tiny models pruned by every method at ratios 0.1 to 0.5, on held-out
// TinyStories text and on the first 100,000 tokens of WikiText-2. It
// takes tens of minutes on two cores, hence the build tag:
//
//	go test -tags prunetable -run ReadmeTable -timeout 3h -v ./native/prune/
func TestReadmeTable(t *testing.T) {
	const (
		seqLen     = 256
		wikiTokens = 100000
	)
	ratios := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	ctx := context.Background()
	var out strings.Builder
	for _, name := range []string{"stories260K", "babyllama-tok105"} {
		m, tk := loadTiny(t, name)
		calib, held, err := Split(tinyStories(t, tk), DefaultCalibTokens)
		if err != nil {
			t.Fatal(err)
		}
		wikiText, err := native.ReadText(filepath.Join(native.DataDir(), "wikitext-2-raw", "wiki.test.raw"))
		if err != nil {
			t.Fatal(err)
		}
		wiki := tk.Encode(wikiText, true)
		st, err := Calibrate(ctx, m, calib, CalibOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eval := func(mod *native.Model) string {
			a, err := native.Perplexity(ctx, mod, held, native.EvalOptions{SeqLen: seqLen})
			if err != nil {
				t.Fatal(err)
			}
			b, err := native.Perplexity(ctx, mod, wiki, native.EvalOptions{SeqLen: seqLen, MaxTokens: wikiTokens})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%.2f / %.1f", a.Perplexity, b.Perplexity)
		}
		start := time.Now()
		fmt.Fprintf(&out, "\n%s (held-out TinyStories: %d tokens; WikiText-2: first %d of %d tokens; dense %s)\n\n",
			name, len(held), min(wikiTokens, len(wiki)), len(wiki), eval(m))
		fmt.Fprintf(&out, "| method |")
		for _, r := range ratios {
			fmt.Fprintf(&out, " %.1f |", r)
		}
		fmt.Fprintf(&out, "\n| --- |%s\n", strings.Repeat(" --- |", len(ratios)))
		for _, method := range Methods() {
			fmt.Fprintf(&out, "| %s |", method)
			for _, r := range ratios {
				p, err := NewPlan(m, st, Options{Method: method, Ratio: r, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				small, err := Slice(m, p)
				if err != nil {
					t.Fatal(err)
				}
				cell := eval(small)
				if achieved := p.Policy.Ratio(ShapeOf(m)); method == MethodShortGPT {
					cell += fmt.Sprintf(" (%.1f)", achieved)
				}
				fmt.Fprintf(&out, " %s |", cell)
				t.Logf("%s %s %.1f: %s (%.0fs)", name, method, r, cell, time.Since(start).Seconds())
			}
			fmt.Fprintln(&out)
		}
	}
	fmt.Fprint(os.Stdout, out.String())
}
