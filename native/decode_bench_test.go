package native

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkDecode times generation as llama2.c's run does it: BOS, then
// one token per forward pass through the key/value cache, the next token
// the greedy choice, positions 0 to 255, through Generate (which packs
// the weights for decoding, and that is timed too), on a State's default
// workers (-cpu sets them). It uses only the exported API, so that
// native/benchdecode.sh can run this same file against an older commit.
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchCheckpoints {
		b.Run(c.name, func(b *testing.B) {
			m := loadBenchCheckpoint(b, c.name, c.file)
			const steps = 256
			greedy, err := NewSampler(0, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			ctx, tok := context.Background(), fixedTokenizer{vocab: m.VocabSize}
			for b.Loop() {
				ids, err := Generate(ctx, m, tok, "", steps, greedy, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(ids) != steps {
					b.Fatalf("%d tokens generated, want %d", len(ids), steps)
				}
			}
			b.ReportMetric(steps*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// fixedTokenizer encodes every prompt as BOS (id 1) and has no EOS, so
// that generation runs all its steps.
type fixedTokenizer struct{ vocab int }

func (fixedTokenizer) Encode(string, bool) []int { return []int{1} }
func (fixedTokenizer) Piece(_, id int) string    { return fmt.Sprint(" ", id) }
func (f fixedTokenizer) VocabSize() int          { return f.vocab }
func (fixedTokenizer) BOS() int                  { return -1 }
func (fixedTokenizer) EOS() int                  { return -1 }

// benchCheckpoints are the shared llama2.c checkpoints the benchmarks run.
var benchCheckpoints = []struct{ name, file string }{
	{"stories260K", "stories260K.bin"}, {"babyllama-tok105", "model5000.bin"},
}

// loadBenchCheckpoint loads one of benchCheckpoints, skipping b without it.
func loadBenchCheckpoint(b *testing.B, name, file string) *Model {
	m, err := LoadLlama2C(filepath.Join(ModelsDir(), name, file))
	if err != nil {
		b.Skip(err)
	}
	return m
}
