package policy

import (
	"os/exec"
	"strings"
	"testing"
)

// stories260K: dim 64, 8 heads of 8 over 4 key/value heads (2 per group),
// hidden 172. A group: q and o 2·(2·8·64) + k and v 2·(8·64) = 3,072.
func TestCosts(t *testing.T) {
	if got := GroupCost(2, 8, 64); got != 3072 {
		t.Errorf("GroupCost(2, 8, 64) = %d, want 3072", got)
	}
	if got := ChannelCost(64); got != 192 {
		t.Errorf("ChannelCost(64) = %d, want 192", got)
	}
}

// The browser build of the predictor imports this package: it must not
// pull in the engine, or anything outside the standard library.
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); len(got) != 1 || got[0] != "github.com/ppfkit/ppf/native/policy" {
		t.Errorf("native/policy depends on %v; it must import only the standard library", got)
	}
}
