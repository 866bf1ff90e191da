//go:build js && wasm

package api

import (
	"testing"
)

// TestExports drives the fast path's exports as ppf.js does: policies
// into the exchange buffer, perplexities out, -1 for success.
func TestExports(t *testing.T) {
	fast = nil
	if ppfLayers() != 0 || ppfScoreExchange(1) != 0 {
		t.Fatal("the exports answer with no session")
	}
	installed(t, false) // Install binds the exports to its Session
	L := int(ppfLayers())
	gs := goldens(t)
	n := len(gs)
	if ppfExchange(int32(n*(2*L+1))) == 0 || len(exchange) < n*(2*L+1) {
		t.Fatal("no exchange buffer")
	}
	for i, g := range gs {
		copy(exchange[2*L*i:], g.Heads)
		copy(exchange[2*L*i+L:], g.MLP)
	}
	if r := ppfScoreExchange(int32(n)); r != -1 {
		t.Fatalf("ppfScoreExchange: %d", r)
	}
	for i, g := range gs {
		if got := exchange[2*L*n+i]; relDiff(got, g.Perplexity) > tol {
			t.Errorf("%s: %v, native %v", g.Name, got, g.Perplexity)
		}
	}
	exchange[2*L*3+1] = 1.5 // policy 3, layer 1's heads: out of range
	if r := ppfScoreExchange(int32(n)); r != 3 {
		t.Errorf("a bad policy 3: ppfScoreExchange gives %d", r)
	}
	if r := ppfScoreExchange(int32(len(exchange))); r != 0 {
		t.Errorf("more policies than the buffer holds: %d", r)
	}
}
