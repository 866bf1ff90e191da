package tokenizer

import (
	"strings"
	"testing"
)

// runCEncode is a straightforward port of llama2.c run.c's encode (without
// EOS): str_lookup as a map lookup (run.c's bsearch over the sorted vocab
// finds the same id, as the vocabularies have no duplicate pieces), and the
// O(n^2) merge loop that rescans every adjacent pair after each merge. It is
// the reference for the heap-based Llama2C.Encode.
func runCEncode(vocab []string, scores []float32, text string, bos bool) []int {
	index := make(map[string]int, len(vocab))
	for i, s := range vocab {
		if _, dup := index[s]; dup {
			panic("duplicate piece " + s)
		}
		index[s] = i
	}
	strLookup := func(s string) int {
		if id, ok := index[s]; ok {
			return id
		}
		return -1
	}

	var tokens []int
	if bos {
		tokens = append(tokens, 1)
	}
	if text != "" {
		tokens = append(tokens, strLookup(" "))
	}
	var buf []byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c&0xC0 != 0x80 {
			buf = buf[:0]
		}
		buf = append(buf, c)
		if i+1 < len(text) && text[i+1]&0xC0 == 0x80 && len(buf) < 4 {
			continue
		}
		if id := strLookup(string(buf)); id != -1 {
			tokens = append(tokens, id)
		} else {
			for _, b := range buf {
				tokens = append(tokens, int(b)+3)
			}
		}
		buf = buf[:0]
	}
	for {
		bestScore := float32(-1e10)
		bestID, bestIdx := -1, -1
		for i := 0; i < len(tokens)-1; i++ {
			id := strLookup(vocab[tokens[i]] + vocab[tokens[i+1]])
			if id != -1 && scores[id] > bestScore {
				bestScore, bestID, bestIdx = scores[id], id, i
			}
		}
		if bestIdx == -1 {
			break
		}
		tokens[bestIdx] = bestID
		tokens = append(tokens[:bestIdx+1], tokens[bestIdx+2:]...)
	}
	return tokens
}

func loadLlama2C(t testing.TB, rel string) *Llama2C {
	t.Helper()
	tok, err := LoadLlama2C(modelFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var llama2CFiles = []struct{ name, path string }{
	{"tok512", "stories260K/tok512.bin"},
	{"llama2", "llama2-tokenizer/tokenizer.bin"},
}

// edgeTexts exercise spaces, byte fallback, invalid UTF-8 and merges at the
// ends of the text.
var edgeTexts = []string{
	"", " ", "  ", "a", "Hello world", "  leading", "trailing  ",
	"tabs\tand\nnewlines\r\n", "日本語 🦙 ünïcödé", "\xff\xfe invalid \xe2\x82", "\x80 stray continuation",
	"<s> </s> <unk> <0x41>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "          ten spaces",
}

func TestLlama2CMatchesRunC(t *testing.T) {
	lines := wikiLines(t, 1000)
	if testing.Short() {
		lines = lines[:100]
	}
	for _, f := range llama2CFiles {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			tok := loadLlama2C(t, f.path)
			for i, text := range append(edgeTexts, lines...) {
				got := tok.Encode(text, i%2 == 0)
				want := runCEncode(tok.pieces, tok.scores, text, i%2 == 0)
				if !equalIDs(got, want) {
					k := firstDiff(got, want)
					t.Fatalf("text %d %.60q: heap encode differs from run.c loop at token %d: got %v, want %v", i, text, k, got[k:min(k+8, len(got))], want[k:min(k+8, len(want))])
				}
			}
		})
	}
}

func TestLlama2CKnownIDs(t *testing.T) {
	tok := loadLlama2C(t, "llama2-tokenizer/tokenizer.bin")
	got := tok.Encode("I believe the meaning of life is", true)
	want := []int{1, 306, 4658, 278, 6593, 310, 2834, 338}
	if !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 || tok.MaxTokenLength() != 27 {
		t.Errorf("VocabSize, BOS, EOS, MaxTokenLength = %d, %d, %d, %d; want 32000, 1, 2, 27", tok.VocabSize(), tok.BOS(), tok.EOS(), tok.MaxTokenLength())
	}
	// Piece: the leading space goes after BOS only; byte tokens are raw bytes.
	for _, c := range []struct {
		prev, id int
		want     string
	}{{1, 306, "I"}, {306, 4658, " believe"}, {1, 4658, "believe"}, {5, 13, "\n"}, {5, 1, ""}, {5, 2, ""}, {5, 32000, ""}} {
		if got := tok.Piece(c.prev, c.id); got != c.want {
			t.Errorf("Piece(%d, %d) = %q, want %q", c.prev, c.id, got, c.want)
		}
	}
	if small := loadLlama2C(t, "stories260K/tok512.bin"); small.VocabSize() != 512 {
		t.Errorf("tok512 VocabSize = %d, want 512", small.VocabSize())
	}
}

// TestLlama2CRoundTrip encodes the whole WikiText-2 test split at once.
// With BOS, decoding drops the dummy-prefix space again, so the text comes
// back unchanged; streaming with Piece gives the same bytes.
func TestLlama2CRoundTrip(t *testing.T) {
	text := wikiTestText(t)
	for _, f := range llama2CFiles {
		t.Run(f.name, func(t *testing.T) {
			tok := loadLlama2C(t, f.path)
			ids := tok.Encode(text, true)
			if got := tok.Decode(ids); got != text {
				i := 0
				for i < len(got) && i < len(text) && got[i] == text[i] {
					i++
				}
				t.Fatalf("Decode(Encode(text)) differs at byte %d: %.40q vs %.40q", i, got[i:], text[i:])
			}
			if got := streamed(tok, ids); got != text {
				t.Fatal("concatenated Piece output differs from the text")
			}
			if got := tok.Decode(tok.Encode(text, false)); got != " "+text {
				t.Fatal("without BOS, Decode(Encode(text)) should keep the dummy-prefix space")
			}
			t.Logf("%s: %d tokens for %d bytes", f.name, len(ids)-1, len(text))
		})
	}
}

func TestLlama2CEncodeEmpty(t *testing.T) {
	tok := loadLlama2C(t, "stories260K/tok512.bin")
	if got := tok.Encode("", true); !equalIDs(got, []int{1}) {
		t.Errorf("Encode(\"\", bos) = %v, want [1]", got)
	}
	if got := tok.Encode("", false); len(got) != 0 {
		t.Errorf("Encode(\"\") = %v, want []", got)
	}
	if got := tok.Decode([]int{1, -5, 2, 9999}); got != "" {
		t.Errorf("Decode of BOS, EOS and bad ids = %q, want \"\"", got)
	}
	if !strings.HasPrefix(tok.pieces[1], "\n<s>") {
		t.Errorf("tok512 BOS piece = %q; the file layout changed", tok.pieces[1])
	}
}
