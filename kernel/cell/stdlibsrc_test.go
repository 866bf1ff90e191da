package cell

import (
	"os"
	"strings"
	"testing"
)

func TestScratch(t *testing.T) {
	b, err := os.ReadFile(os.Getenv("SCRATCH"))
	if err != nil {
		t.Skip()
	}
	cells := strings.Split(string(b), "\n----\n")
	for i, out := range seq(t, cells...) {
		t.Logf("cell %d:\n%s", i+1, out)
	}
}

func BenchmarkNewEngine(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
