package tokenizer

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tinyHF is a minimal valid tokenizer.json: "ab" merges into one token.
const tinyHF = `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readModel(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(modelFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadBadInput(t *testing.T) {
	tok512 := readModel(t, "stories260K/tok512.bin")
	tok105 := readModel(t, "babyllama-tok105/tok105.model")
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	garbage[0] = 0x0a // looks like a ModelProto's first field

	cases := []struct {
		name, file string
		data       []byte
		want       error
		msg        string // part of the message
	}{
		{"truncated tokenizer.bin", "tok.bin", tok512[:1000], ErrBadTokenizer, "truncated"},
		{"tokenizer.bin cut in a header", "tok.bin", tok512[:len(tok512)-3], ErrBadTokenizer, "truncated"},
		{"tokenizer.bin too short", "tok.bin", tok512[:2], ErrBadTokenizer, "too short"},
		{"tokenizer.bin bad length", "tok.bin", append(append([]byte{}, tok512[:8]...), 0xff, 0xff, 0xff, 0x7f), ErrBadTokenizer, "length"},
		{"tokenizer.bin with few tokens", "tok.bin", []byte("\x04\x00\x00\x00" + "\x00\x00\x00\x00\x01\x00\x00\x00a"), ErrBadTokenizer, "at least 259"},
		{"empty .bin", "tok.bin", nil, ErrBadTokenizer, "too short"},
		{"empty .model", "tok.model", nil, ErrBadTokenizer, "empty"},
		{"empty .json", "tokenizer.json", nil, ErrBadTokenizer, "not a valid tokenizer.json"},
		{"empty, no extension", "tokenizer", nil, ErrBadTokenizer, "empty"},
		{"garbage protobuf", "tok.model", garbage, ErrBadTokenizer, "not a valid SentencePiece ModelProto"},
		{"truncated .model", "tok.model", tok105[:500], ErrBadTokenizer, "not a valid SentencePiece ModelProto"},
		{"garbage protobuf, no extension", "tok", garbage, ErrBadTokenizer, "ModelProto"},
		{"truncated tokenizer.json", "tokenizer.json", []byte(tinyHF[:40]), ErrBadTokenizer, "not a valid tokenizer.json"},
		{"tokenizer.json vocab not a map", "tokenizer.json", []byte(`{"model": {"type": "BPE", "vocab": [1, 2], "merges": []}}`), ErrBadTokenizer, "model.vocab"},
		{"tokenizer.json merge outside vocab", "tokenizer.json", []byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}`), ErrBadTokenizer, "not in the vocabulary"},
		{"tokenizer.json bad merge", "tokenizer.json", []byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}`), ErrBadTokenizer, "two tokens"},
		{"tokenizer.json without model", "tokenizer.json", []byte(`{"version": "1.0"}`), ErrBadTokenizer, "no model"},
		{"unknown format", "notes.txt", []byte("just some text\n"), ErrUnknownFormat, "*.bin (llama2.c)"},
		{"Unigram tokenizer.json", "tokenizer.json", []byte(`{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}`), ErrUnsupported, "only BPE"},
		{"NFKC normalizer", "tokenizer.json", []byte(`{"normalizer": {"type": "NFKC"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`), ErrUnsupported, "NFKC"},
		{"Unigram .model", "tok.model", append(append([]byte{}, tok105...), 0x12, 0x02, 0x18, 0x01), ErrUnsupported, "Unigram"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := Load(writeTemp(t, c.file, c.data))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Load error = %v; want %v with %q in the message", err, c.want, c.msg)
			}
			if tok != nil {
				t.Errorf("Load returned a tokenizer with the error")
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want fs.ErrNotExist", err)
	}
	empty := t.TempDir()
	if _, err := Load(empty); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("empty directory: error %v, want ErrUnknownFormat", err)
	}
	// A directory with a tokenizer.json, and the same content without an
	// extension, are both read as Hugging Face files.
	dir := filepath.Dir(writeTemp(t, "tokenizer.json", []byte(tinyHF)))
	for _, p := range []string{dir, writeTemp(t, "tok", []byte(tinyHF))} {
		tok, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Encode("abba", false); !equalIDs(got, []int{2, 1, 0}) {
			t.Errorf("Encode(abba) = %v, want [2 1 0]", got)
		}
		if tok.BOS() != -1 || tok.EOS() != -1 || tok.VocabSize() != 3 {
			t.Errorf("BOS, EOS, VocabSize = %d, %d, %d; want -1, -1, 3", tok.BOS(), tok.EOS(), tok.VocabSize())
		}
	}
	// The typed loaders agree with Load.
	if _, err := LoadLlama2C(modelFile(t, "stories260K/tok512.bin")); err != nil {
		t.Error(err)
	}
	if _, err := LoadSentencePiece(modelFile(t, "babyllama-tok105/tok105.model")); err != nil {
		t.Error(err)
	}
	if _, err := LoadHF(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Error(err)
	}
}

// FuzzParse checks that no input makes a loader or the tokenizer it returns
// panic. The seeds run with go test; go test -fuzz=FuzzParse explores more.
func FuzzParse(f *testing.F) {
	f.Add([]byte(tinyHF), uint8(0))
	f.Add([]byte(`{"added_tokens":[{"id":3,"content":"<s>","special":true}],"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"}]},"pre_tokenizer":{"type":"Metaspace","replacement":"▁"},"decoder":{"type":"ByteLevel"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"ids":[3]}}},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]],"byte_fallback":true,"unk_token":"a","fuse_unk":true}}`), uint8(0))
	for kind, rel := range map[uint8]string{1: "babyllama-tok105/tok105.model", 2: "stories260K/tok512.bin"} {
		if b, err := os.ReadFile(filepath.Join(sharedDir(f, "PPF_MODELS", "models"), rel)); err == nil {
			f.Add(b, kind)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		var tok Tokenizer
		var err error
		switch kind % 3 {
		case 0:
			tok, err = checked(parseHF(data, "fuzz.json"))
		case 1:
			tok, err = checked(parseSentencePiece(data, "fuzz.model"))
		case 2:
			tok, err = checked(parseLlama2C(data, "fuzz.bin"))
		}
		if err != nil {
			return
		}
		ids := tok.Encode("ab a\u00e9\xff  b<s>\n", true)
		tok.Decode(append(ids, -1, tok.VocabSize(), 1<<40))
		for _, id := range ids {
			tok.Piece(tok.BOS(), id)
		}
	})
}

// TestTokenizerPatternTimeout checks that a Split pattern that backtracks
// catastrophically fails encoding with a clean error in about a second.
// `(a|aa)+$` on 41 'a' and a '!' needs over a minute without the timeout;
// the test gives up after 5 s so that such a build fails rather than hangs.
func TestTokenizerPatternTimeout(t *testing.T) {
	const pattern = `(a|aa)+$`
	path := writeTemp(t, "tokenizer.json", []byte(`{
		"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a|aa)+$"}, "behavior": "Isolated", "invert": false},
		"model": {"type": "BPE", "vocab": {"a": 0, "!": 1, "aa": 2}, "merges": ["a a"]}}`))
	tok, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("aaa", false); !equalIDs(got, []int{2, 0}) { // a matching input is fast
		t.Fatalf(`Encode("aaa") = %v, want [2 0]`, got)
	}
	text := strings.Repeat("a", 41) + "!"
	for _, c := range []struct {
		name   string
		encode func() ([]int, error)
	}{
		{"EncodeErr", func() ([]int, error) { return EncodeErr(tok, text, true) }},
		{"Encode", func() (ids []int, err error) { // panics with the same error
			defer func() {
				if r := recover(); r != nil {
					err, _ = r.(error)
					if err == nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}
			}()
			return tok.Encode(text, true), nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			type result struct {
				ids []int
				err error
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				ids, err := c.encode()
				done <- result{ids, err}
			}()
			select {
			case r := <-done:
				took := time.Since(start)
				if r.err == nil {
					t.Fatalf("no error after %v; ids %v", took, r.ids)
				}
				if !errors.Is(r.err, ErrBadTokenizer) {
					t.Errorf("error %v is not ErrBadTokenizer", r.err)
				}
				want := fmt.Sprintf("tokenizer: %s: the pre-tokenizer pattern %q took longer than 1s to match: the tokenizer.json is damaged or hostile", path, pattern)
				if r.err.Error() != want {
					t.Errorf("error\n%s\nwant\n%s", r.err, want)
				}
				if took > 2500*time.Millisecond {
					t.Errorf("took %v, want about 1 s", took)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("still encoding %d characters after 5 s: the pattern has no timeout", len(text))
			}
		})
	}
}
