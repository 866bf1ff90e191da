package tokenizer

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

func loadTok105(t testing.TB) *SentencePiece {
	t.Helper()
	tok, err := LoadSentencePiece(modelFile(t, "babyllama-tok105/tok105.model"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestTok105Settings pins down what tok105.model says: a BPE model trained
// by llama2.c with the identity normalizer, byte_fallback off (so characters
// outside the 105 pieces, such as "\n", become <unk>), and the default
// whitespace handling (dummy prefix, extra spaces removed). Its unk_surface
// is the literal text ` \342\201\207 ` (a Python raw string in llama2.c's
// training script), which sentencepiece prints as is.
func TestTok105Settings(t *testing.T) {
	tok := loadTok105(t)
	want := `bpe normalizer=identity byte_fallback=false add_dummy_prefix=true remove_extra_whitespaces=true escape_whitespaces=true unk_surface=" \\342\\201\\207 "`
	if got := tok.Settings(); got != want {
		t.Errorf("Settings() =\n%s\nwant\n%s", got, want)
	}
	if tok.VocabSize() != 105 || tok.BOS() != 1 || tok.EOS() != 2 || len(tok.merges) != 0 {
		t.Errorf("VocabSize, BOS, EOS, merges = %d, %d, %d, %d; want 105, 1, 2, 0", tok.VocabSize(), tok.BOS(), tok.EOS(), len(tok.merges))
	}
}

// TestTok105IsCharacterLevel checks the model against the .vocab file that
// sentencepiece wrote beside it: same pieces and scores, and every normal
// piece is a single character, so no merge can ever apply.
func TestTok105IsCharacterLevel(t *testing.T) {
	tok := loadTok105(t)
	raw, err := os.ReadFile(modelFile(t, "babyllama-tok105/tok105.vocab"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != tok.VocabSize() {
		t.Fatalf(".vocab has %d lines, model %d pieces", len(lines), tok.VocabSize())
	}
	for id, l := range lines {
		piece, score, _ := strings.Cut(l, "\t")
		s, err := strconv.ParseFloat(score, 32)
		if err != nil || piece != tok.pieces[id] || float32(s) != tok.scores[id] {
			t.Errorf("piece %d: .vocab %q %q, model %q %v", id, piece, score, tok.pieces[id], tok.scores[id])
		}
		if tok.types[id] == spNormal && utf8.RuneCountInString(piece) != 1 {
			t.Errorf("piece %d %q is not one character", id, piece)
		}
	}
}

// TestSentencePieceGoldenTok105 compares with the real sentencepiece library
// (WebAssembly build, see testdata/npm/golden.mjs) on TinyStories.
func TestSentencePieceGoldenTok105(t *testing.T) {
	tok := loadTok105(t)
	g := readGolden(t, "golden-tok105.json.gz")
	checkGolden(t, tok, g, false)
	// Hand-checked against tok105.vocab: "▁"=3, "O"=34, "n"=9, "c"=22, "e"=4, ...
	if got, want := tok.Encode("Once upon a time", true), []int{1, 3, 34, 9, 22, 4, 3, 18, 20, 7, 9, 3, 5, 3, 6, 10, 16, 4}; !equalIDs(got, want) {
		t.Errorf("Encode(Once upon a time) = %v, want %v", got, want)
	}

	// Round trip on each TinyStories line: every character is a piece and
	// spaces are single, so the text comes back unchanged. The newlines
	// between stories are not pieces: whole-text encoding gives one <unk>
	// per newline.
	raw, err := os.ReadFile(dataFile(t, "tinystories/TinyStories-valid-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		ids := tok.Encode(line, true)
		if got := tok.Decode(ids); got != line {
			t.Errorf("line %d: Decode(Encode(line)) = %.80q, want %.80q", i, got, line)
		}
		if got := streamed(tok, ids); got != line {
			t.Errorf("line %d: streamed Piece output = %.80q", i, got)
		}
	}
	unk := 0
	for _, id := range tok.Encode(text, false) {
		if id == 0 {
			unk++
		}
	}
	if want := strings.Count(strings.TrimRight(text, "\n"), "\n"); unk != want {
		t.Errorf("whole text: %d <unk>, want one per newline (%d)", unk, want)
	}
}

// TestSentencePieceGoldenLlama2Bin exercises BPE merges and byte fallback:
// the Llama 2 vocabulary from tokenizer.bin, written as a SentencePiece
// ModelProto, against the real sentencepiece library on WikiText-2 lines.
// llama2.c's encoder must agree with both.
func TestSentencePieceGoldenLlama2Bin(t *testing.T) {
	bin := loadLlama2C(t, "llama2-tokenizer/tokenizer.bin")
	path := filepath.Join(t.TempDir(), "llama2bin.model")
	if err := os.WriteFile(path, spmFromLlama2C(bin), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadSentencePiece(path)
	if err != nil {
		t.Fatal(err)
	}
	g := readGolden(t, "golden-spm-llama2bin.json.gz")
	checkGolden(t, tok, g, false)
	for _, c := range g.Cases {
		if got := bin.Encode(c.Text, false); !equalIDs(got, c.IDs) && c.Text != "" {
			t.Errorf("llama2.c encoder differs from sentencepiece on %.60q", c.Text)
		}
	}
	if got, want := tok.Encode("I believe the meaning of life is", true), []int{1, 306, 4658, 278, 6593, 310, 2834, 338}; !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// spmFromLlama2C writes a llama2.c vocabulary as a SentencePiece BPE
// ModelProto, as golden.mjs's llama2binModel does: id 0 UNKNOWN, 1-2
// CONTROL, 3-258 BYTE, the rest NORMAL with " " as "▁", byte_fallback on,
// add_dummy_prefix on, remove_extra_whitespaces off.
func spmFromLlama2C(t *Llama2C) []byte {
	var model []byte
	for id, p := range t.pieces {
		typ := uint64(spNormal)
		switch {
		case id == 0:
			typ, p = spUnknown, "<unk>"
		case id <= 2:
			typ, p = spControl, []string{"", "<s>", "</s>"}[id]
		case id <= 258:
			typ = spByte
		default:
			p = strings.ReplaceAll(p, " ", spaceSymbol)
		}
		var piece []byte
		piece = protowire.AppendTag(piece, 1, protowire.BytesType)
		piece = protowire.AppendString(piece, p)
		piece = protowire.AppendTag(piece, 2, protowire.Fixed32Type)
		piece = protowire.AppendFixed32(piece, math.Float32bits(t.scores[id]))
		piece = protowire.AppendTag(piece, 3, protowire.VarintType)
		piece = protowire.AppendVarint(piece, typ)
		model = protowire.AppendTag(model, 1, protowire.BytesType)
		model = protowire.AppendBytes(model, piece)
	}
	var trainer, norm []byte
	trainer = protowire.AppendTag(trainer, 3, protowire.VarintType)
	trainer = protowire.AppendVarint(trainer, spBPE)
	trainer = protowire.AppendTag(trainer, 35, protowire.VarintType)
	trainer = protowire.AppendVarint(trainer, 1)
	norm = protowire.AppendTag(norm, 1, protowire.BytesType)
	norm = protowire.AppendString(norm, "identity")
	norm = protowire.AppendTag(norm, 3, protowire.VarintType)
	norm = protowire.AppendVarint(norm, 1)
	norm = protowire.AppendTag(norm, 4, protowire.VarintType)
	norm = protowire.AppendVarint(norm, 0)
	model = protowire.AppendTag(model, 2, protowire.BytesType)
	model = protowire.AppendBytes(model, trainer)
	model = protowire.AppendTag(model, 3, protowire.BytesType)
	return protowire.AppendBytes(model, norm)
}

// TestSentencePieceCharModel reads tok105 with model_type CHAR appended
// (a later field wins in protobuf); with no merges it encodes the same.
func TestSentencePieceCharModel(t *testing.T) {
	raw, err := os.ReadFile(modelFile(t, "babyllama-tok105/tok105.model"))
	if err != nil {
		t.Fatal(err)
	}
	var trainer []byte
	trainer = protowire.AppendTag(trainer, 3, protowire.VarintType)
	trainer = protowire.AppendVarint(trainer, spChar)
	raw = protowire.AppendTag(raw, 2, protowire.BytesType)
	raw = protowire.AppendBytes(raw, trainer)
	path := filepath.Join(t.TempDir(), "char.model")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	char, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	bpe := loadTok105(t)
	for _, s := range []string{"Once upon a time", "  Hello   world  ", "Hi\nthere"} {
		if got, want := char.Encode(s, true), bpe.Encode(s, true); !equalIDs(got, want) {
			t.Errorf("CHAR model: Encode(%q) = %v, want %v", s, got, want)
		}
	}
}

// checkGolden compares every golden case: ids, then the decoded text where
// the golden has one, or else the round trip when lossless is set.
func checkGolden(t *testing.T, tok Tokenizer, g *golden, bos bool) {
	t.Helper()
	bad := 0
	for i, c := range g.Cases {
		got := tok.Encode(c.Text, bos)
		if !equalIDs(got, c.IDs) {
			k := firstDiff(got, c.IDs)
			t.Errorf("case %d %.60q: ids differ from %s at token %d: got %v, want %v", i, c.Text, g.Reference, k, got[k:min(k+8, len(got))], c.IDs[k:min(k+8, len(c.IDs))])
			bad++
		}
		if c.Decoded != nil {
			if d := tok.Decode(c.IDs); d != *c.Decoded {
				t.Errorf("case %d: Decode = %.60q, want %.60q", i, d, *c.Decoded)
				bad++
			}
		}
		if bad >= 10 {
			t.Fatal("stopping after 10 differences")
		}
	}
}
