package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// llama2.c's fixed special ids (run.c): BOS=1, EOS=2, byte b is id b+3.
const (
	llama2cBOS        = 1
	llama2cEOS        = 2
	llama2cByteOffset = 3
)

// Llama2C is a tokenizer in llama2.c's tokenizer.bin format, encoding and
// decoding exactly as run.c does.
type Llama2C struct {
	maxTokenLength int
	pieces         []string // id -> piece; spaces are real spaces, not "▁"
	scores         []float32
	lookup         map[string]int32 // piece -> lowest id with that piece
	merges         mergeTable
	// wordLocal is true when no piece has a space right after another
	// character; then no merge can join a space to the symbol before it, and
	// Encode merges each word (a run starting at such a space) on its own.
	wordLocal bool
}

// LoadLlama2C reads a llama2.c tokenizer.bin: int32 max_token_length, then
// for each token float32 score, int32 length and that many bytes, all little
// endian. The vocabulary size is the number of records in the file.
func LoadLlama2C(path string) (*Llama2C, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return parseLlama2C(data, path)
}

func parseLlama2C(data []byte, path string) (*Llama2C, error) {
	if len(data) < 4 {
		return nil, badf(path, "%d bytes is too short for a llama2.c tokenizer.bin (it starts with a 4-byte max_token_length); is the file complete?", len(data))
	}
	t := &Llama2C{maxTokenLength: int(int32(binary.LittleEndian.Uint32(data)))}
	if t.maxTokenLength <= 0 || t.maxTokenLength > 1<<16 {
		return nil, badf(path, "max_token_length %d is not plausible; this is not a llama2.c tokenizer.bin", t.maxTokenLength)
	}
	for off := 4; off < len(data); {
		id := len(t.pieces)
		if len(data)-off < 8 {
			return nil, badf(path, "token %d: record header cut off after %d of 8 bytes; the file is truncated", id, len(data)-off)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int(int32(binary.LittleEndian.Uint32(data[off+4:])))
		off += 8
		if n < 0 || n > t.maxTokenLength {
			return nil, badf(path, "token %d: length %d outside 0..max_token_length=%d; the file is corrupt", id, n, t.maxTokenLength)
		}
		if len(data)-off < n {
			return nil, badf(path, "token %d: %d bytes of text expected, %d left; the file is truncated", id, n, len(data)-off)
		}
		t.pieces = append(t.pieces, string(data[off:off+n]))
		t.scores = append(t.scores, score)
		off += n
	}
	if len(t.pieces) < llama2cByteOffset+256 {
		return nil, badf(path, "%d tokens; a llama2.c vocabulary has at least 259 (<unk>, <s>, </s> and 256 byte tokens)", len(t.pieces))
	}
	t.lookup = make(map[string]int32, len(t.pieces))
	for id, p := range t.pieces {
		if _, dup := t.lookup[p]; !dup {
			t.lookup[p] = int32(id)
		}
	}
	t.wordLocal = true
	for _, p := range t.pieces {
		for k := 1; k < len(p); k++ {
			if p[k] == ' ' && p[k-1] != ' ' {
				t.wordLocal = false
			}
		}
	}
	// run.c only merges when the score beats its starting best of -1e10.
	t.merges = scoreMerges(t.pieces, t.scores, t.lookup, func(id int) bool { return t.scores[id] > -1e10 })
	return t, nil
}

// Encode implements run.c's encode: BOS when asked, a dummy-prefix " " when
// text is not empty, one token per UTF-8 code point (or byte tokens when the
// code point is not in the vocabulary), then the highest-scoring merges.
func (t *Llama2C) Encode(text string, bos bool) []int {
	return t.encode(&merger{}, text, bos)
}

func (t *Llama2C) encode(m *merger, text string, bos bool) []int {
	ids := make([]int32, 0, len(text)+1)
	if text != "" {
		if sp, ok := t.lookup[" "]; ok {
			ids = append(ids, sp)
		}
	}
	// run.c groups a byte with up to 3 following continuation bytes.
	for start := 0; start < len(text) && !m.stop(); {
		end := start + 1
		for end < len(text) && end-start < 4 && text[end]&0xC0 == 0x80 {
			end++
		}
		if id, ok := t.lookup[text[start:end]]; ok {
			ids = append(ids, id)
		} else {
			for i := start; i < end; i++ {
				ids = append(ids, int32(text[i])+llama2cByteOffset)
			}
		}
		start = end
	}
	out := make([]int, 0, len(ids)+1)
	if bos {
		out = append(out, llama2cBOS)
	}
	// Merge word by word when that cannot change the result (see
	// wordLocal): many small heaps are much faster than one large one.
	space := t.lookup[" "]
	for start := 0; start < len(ids) && !m.stop(); {
		end := len(ids)
		if t.wordLocal {
			for end = start + 1; end < len(ids) && !(ids[end] == space && ids[end-1] != space); end++ {
			}
		}
		for _, id := range m.merge(t.merges, ids[start:end]) {
			out = append(out, int(id))
		}
		start = end
	}
	return out
}

// Decode concatenates the pieces as run.c prints them: BOS and EOS give no
// text, the piece after BOS loses a leading space.
func (t *Llama2C) Decode(ids []int) string {
	var b strings.Builder
	prev := -1
	for _, id := range ids {
		b.WriteString(t.Piece(prev, id))
		prev = id
	}
	return b.String()
}

// Piece is run.c's decode of one token.
func (t *Llama2C) Piece(prev, id int) string {
	if id < 0 || id >= len(t.pieces) || id == llama2cBOS || id == llama2cEOS {
		return ""
	}
	p := t.pieces[id]
	if prev == llama2cBOS && strings.HasPrefix(p, " ") {
		p = p[1:]
	}
	if b, ok := parseBytePiece(p); ok {
		return byteStrings[b]
	}
	return p
}

// VocabSize is the number of tokens in the file.
func (t *Llama2C) VocabSize() int { return len(t.pieces) }

// BOS is 1, as in run.c.
func (t *Llama2C) BOS() int { return llama2cBOS }

// EOS is 2, as in run.c.
func (t *Llama2C) EOS() int { return llama2cEOS }

// MaxTokenLength is the longest piece in bytes, as stored in the file.
func (t *Llama2C) MaxTokenLength() int { return t.maxTokenLength }
