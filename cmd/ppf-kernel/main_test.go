package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallPrefix(t *testing.T) {
	prefix := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"install", "--prefix", prefix}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(prefix, "share", "jupyter", "kernels", "ppf", "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv        []string `json:"argv"`
		DisplayName string   `json:"display_name"`
		Language    string   `json:"language"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.DisplayName != "Go (PPF)" || spec.Language != "go" || len(spec.Argv) != 3 ||
		spec.Argv[1] != "--connection-file" || spec.Argv[2] != "{connection_file}" || !filepath.IsAbs(spec.Argv[0]) {
		t.Errorf("kernel.json: %s", b)
	}
}

func TestInstallUser(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", dir)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"install", "--user"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "kernels", "ppf", "kernel.json")); err != nil {
		t.Error(err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "--connection-file is missing"},
		{[]string{"install", "--user", "--prefix", "/x"}, 2, "not both"},
		{[]string{"--connection-file", "/nonexistent.json"}, 1, "reading the connection file"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
}
