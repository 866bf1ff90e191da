package tokenizer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// An encoding call on a large text ends soon after its context does, with
// the context's error, in every format; an unfinished context changes
// nothing.
func TestEncodeContextStops(t *testing.T) {
	wiki := wikiTestText(t)
	big := strings.Repeat(wiki, 8) // 10 MB: about 1 to 3 s of encoding
	for _, c := range []struct {
		name string
		tok  Tokenizer
	}{
		{"llama2c", loadLlama2C(t, "stories260K/tok512.bin")},
		{"sentencepiece", loadTok105(t)},
		{"hf", loadNpmHF(t, "tokenizer-llama3")},
	} {
		t.Run(c.name, func(t *testing.T) {
			short := wiki[:20000]
			got, err := EncodeContext(context.Background(), c.tok, short, true)
			if err != nil || !equalIDs(got, c.tok.Encode(short, true)) {
				t.Fatalf("EncodeContext without cancellation: err %v, ids equal to Encode: %v", err, equalIDs(got, c.tok.Encode(short, true)))
			}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if ids, err := EncodeContext(ctx, c.tok, big, true); !errors.Is(err, context.Canceled) || ids != nil {
				t.Errorf("cancelled before the call: %d ids, err %v; want none and context.Canceled", len(ids), err)
			}

			ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			ids, err := EncodeContext(ctx, c.tok, big, true)
			if !errors.Is(err, context.DeadlineExceeded) || ids != nil {
				t.Fatalf("cancelled during the call: %d ids, err %v; want none and context.DeadlineExceeded", len(ids), err)
			}
			d := time.Since(start)
			// Against the whole encoding, timed now, so that a loaded
			// machine slows both alike. What remains after the deadline is
			// a linear pass or two over the text (normalizing, decoding
			// runes), which no check interrupts.
			start = time.Now()
			c.tok.Encode(big, true)
			whole := time.Since(start)
			if d > whole/2 {
				t.Errorf("EncodeContext returned %v after the call began (deadline 20 ms); the whole encoding takes %v", d, whole)
			}
		})
	}
}
