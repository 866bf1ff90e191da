package tokenizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer turns text into token ids and back.
//
// Implementations are read-only after loading and safe for concurrent use.
type Tokenizer interface {
	// Encode returns the token ids of text. When bos is true and the
	// tokenizer has a beginning-of-sequence token, it is prepended.
	Encode(text string, bos bool) []int
	// Decode returns the text of a whole sequence of ids. BOS, EOS and other
	// control tokens produce no text; ids out of range are skipped.
	Decode(ids []int) string
	// Piece returns the text of token id when it follows token prev during
	// streaming generation, with llama2.c semantics: after BOS a leading
	// space is dropped, and a byte token <0xXX> gives that raw byte (so a
	// piece may hold part of a UTF-8 sequence). Control tokens give "".
	Piece(prev, id int) string
	// VocabSize is the number of token ids (the largest id plus one).
	VocabSize() int
	// BOS is the beginning-of-sequence id, or -1 if there is none.
	BOS() int
	// EOS is the end-of-sequence id, or -1 if there is none.
	EOS() int
}

// EncodeErr returns the token ids of text as t.Encode does, but returns
// an error where t.Encode would panic: a Hugging Face tokenizer.json whose
// pre-tokenizer pattern backtracks catastrophically (see HF.EncodeErr).
// Tokenizers of the other formats never fail.
func EncodeErr(t Tokenizer, text string, bos bool) ([]int, error) {
	return EncodeContext(context.Background(), t, text, bos)
}

// EncodeContext is EncodeErr that stops early, with ctx's error, once ctx
// is done: encoding runs at 5 to 15 MB/s, so a large corpus takes long
// enough that an interrupt must not wait for it.
func EncodeContext(ctx context.Context, t Tokenizer, text string, bos bool) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &merger{stopper: stopper{done: ctx.Done()}}
	var ids []int
	var err error
	switch t := t.(type) {
	case *Llama2C:
		ids = t.encode(m, text, bos)
	case *SentencePiece:
		ids = t.encode(m, text, bos)
	case *HF:
		ids, err = t.encode(m, text, bos)
	default:
		if e, ok := t.(interface {
			EncodeErr(string, bool) ([]int, error)
		}); ok {
			ids, err = e.EncodeErr(text, bos)
		} else {
			ids = t.Encode(text, bos)
		}
	}
	if m.stopped {
		return nil, ctx.Err()
	}
	return ids, err
}

// Unknown returns the id of t's unknown token (<unk>), which stands for
// text that t has no pieces for, or -1 when t never produces one (llama2.c
// tokenizers fall back to bytes for everything).
func Unknown(t Tokenizer) int {
	switch t := t.(type) {
	case *SentencePiece:
		return t.unk
	case *HF:
		return int(t.unk)
	}
	return -1
}

// Sentinel errors, wrapped with %w by the loaders; test with errors.Is.
var (
	// ErrBadTokenizer reports a tokenizer file that is corrupt or truncated.
	ErrBadTokenizer = errors.New("tokenizer: corrupt or truncated tokenizer file")
	// ErrUnknownFormat reports a file that is none of the supported formats.
	ErrUnknownFormat = errors.New("tokenizer: unknown tokenizer format")
	// ErrUnsupported reports a well-formed file that uses a feature this
	// package does not implement (for example a Unigram model).
	ErrUnsupported = errors.New("tokenizer: unsupported tokenizer feature")
)

// Load reads a tokenizer, choosing the format from the file name and, when
// that is not conclusive, from the content:
//
//   - *.json (or content starting with '{'): Hugging Face tokenizer.json, see LoadHF;
//   - *.model (or a protobuf whose first field is a piece): SentencePiece, see LoadSentencePiece;
//   - *.bin: llama2.c tokenizer.bin, see LoadLlama2C.
//
// A directory is searched for tokenizer.json, tokenizer.model and
// tokenizer.bin, in that order.
func Load(path string) (Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		for _, name := range []string{"tokenizer.json", "tokenizer.model", "tokenizer.bin"} {
			p := filepath.Join(path, name)
			if _, err := os.Stat(p); err == nil {
				return Load(p)
			}
		}
		return nil, fmt.Errorf("%w: directory %s holds no tokenizer.json, tokenizer.model or tokenizer.bin; pass the tokenizer file itself", ErrUnknownFormat, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".json" || bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")):
		return checked(parseHF(data, path))
	case ext == ".model" || (ext != ".bin" && len(data) > 0 && data[0] == 0x0a): // 0x0a: protobuf field 1 (pieces)
		return checked(parseSentencePiece(data, path))
	case ext == ".bin":
		return checked(parseLlama2C(data, path))
	case len(data) == 0:
		return nil, fmt.Errorf("%w: %s is empty", ErrBadTokenizer, path)
	}
	return nil, fmt.Errorf("%w: cannot tell the format of %s; name it *.bin (llama2.c), *.model (SentencePiece) or *.json (Hugging Face)", ErrUnknownFormat, path)
}

// checked converts a loader's result to Load's, so that a failed load gives
// a nil interface rather than an interface holding a nil pointer.
func checked[T Tokenizer](t T, err error) (Tokenizer, error) {
	if err != nil {
		return nil, err
	}
	return t, nil
}

// badf returns an ErrBadTokenizer error for file path.
func badf(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadTokenizer, path, fmt.Sprintf(format, args...))
}

// unsupportedf returns an ErrUnsupported error for file path.
func unsupportedf(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsupported, path, fmt.Sprintf(format, args...))
}

// parseBytePiece reports whether piece is a byte token "<0xXX>" and its byte.
func parseBytePiece(piece string) (byte, bool) {
	if len(piece) != 6 || piece[:3] != "<0x" || piece[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(piece[3])
	lo, ok2 := hexDigit(piece[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// byteStrings holds the 256 one-byte strings, so that a byte piece can be
// returned without allocating.
var byteStrings = func() (s [256]string) {
	for i := range s {
		s[i] = string([]byte{byte(i)})
	}
	return s
}()
