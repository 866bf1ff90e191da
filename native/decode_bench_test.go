package native

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkDecode times generation's inner loop, as llama2.c's run does
// it: one token per forward pass through the key/value cache, the next
// token the greedy choice, positions 0 to 255, on a State's default
// workers (-cpu sets them). It uses only the exported API, so that
// native/benchdecode.sh can run this same file against an older commit.
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchCheckpoints {
		b.Run(c.name, func(b *testing.B) {
			m := loadBenchCheckpoint(b, c.name, c.file)
			const steps = 256
			s := NewState(m, 1, steps)
			greedy, err := NewSampler(0, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			ctx, tok := context.Background(), []int{1}
			for b.Loop() {
				tok[0] = 1
				for pos := 0; pos < steps; pos++ {
					logits, err := s.Forward(ctx, tok, pos)
					if err != nil {
						b.Fatal(err)
					}
					tok[0] = greedy.Sample(logits)
				}
			}
			b.ReportMetric(steps*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

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
