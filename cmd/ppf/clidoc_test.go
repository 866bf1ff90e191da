package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateCLIDoc = flag.Bool("update", false, "rewrite docs/cli.md from the commands' own help")

// TestCLIReference checks that docs/cli.md is what the commands print for
// -h, so that the reference cannot drift from the code. After changing a
// flag or a usage line: go test ./cmd/ppf -run TestCLIReference -update
func TestCLIReference(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cli.md")
	got := cliReference(t)
	if *updateCLIDoc {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("docs/cli.md differs from the commands' help; regenerate it: go test ./cmd/ppf -run TestCLIReference -update")
	}
}

// cliReference renders ppf's usage and every command's -h, in the order
// the usage lists them.
func cliReference(t *testing.T) string {
	var sb strings.Builder
	sb.WriteString("# ppf command line reference\n\n" +
		"Generated from the commands' own help (`ppf help`, `ppf COMMAND -h`) by\n" +
		"`go test ./cmd/ppf -run TestCLIReference -update`; the same test fails\n" +
		"when this page and the code disagree. Examples and explanations are in\n" +
		"the README and docs/usage.md.\n\n")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"help"}, &out, &errOut); code != 0 {
		t.Fatalf("ppf help: exit %d: %s", code, errOut.String())
	}
	sb.WriteString("## ppf\n\n```\n" + out.String() + "```\n")
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ppf ([a-z-]+)`).FindAllStringSubmatch(out.String(), -1) {
		seen[m[1]] = true
		sb.WriteString(commandHelp(t, m[1]))
	}
	if !seen["generate"] {
		t.Fatalf("no commands found in ppf's usage:\n%s", out.String())
	}
	sb.WriteString(commandHelp(t, "demo")) // the default command, listed as plain "ppf"
	for name := range commands {
		if !seen[name] && name != "demo" {
			t.Errorf("command %s is missing from ppf's usage", name)
		}
	}
	return sb.String()
}

func commandHelp(t *testing.T, name string) string {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{name, "-h"}, &out, &errOut); code != 0 {
		t.Fatalf("ppf %s -h: exit %d: %s", name, code, errOut.String())
	}
	return "\n## ppf " + name + "\n\n```\n" + errOut.String() + "```\n"
}
