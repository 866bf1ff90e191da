package tokenizer

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// spaceSymbol is SentencePiece's visible whitespace, U+2581.
const spaceSymbol = "▁"

// SentencePiece piece types (sentencepiece_model.proto, SentencePiece.Type).
const (
	spNormal      = 1
	spUnknown     = 2
	spControl     = 3
	spUserDefined = 4
	spUnused      = 5
	spByte        = 6
)

// SentencePiece model types (TrainerSpec.ModelType).
const (
	spUnigram = 1
	spBPE     = 2
	spChar    = 4 // 3 is WORD, not supported
)

// SentencePiece is a tokenizer read from a SentencePiece .model file. It
// encodes BPE and CHAR models the way the sentencepiece library does, for
// models whose normalizer has no precompiled character map (rule "identity",
// as llama2.c's and Llama 2's models use).
type SentencePiece struct {
	pieces      []string
	scores      []float32
	types       []int8
	lookup      map[string]int32 // piece -> id (sentencepiece's PieceToId)
	merges      mergeTable       // nil for CHAR models
	userDefined []string         // USER_DEFINED pieces, longest first
	byteIDs     [256]int32       // id of <0xXX>, or -1

	modelType                      int
	unk, bos, eos                  int
	byteFallback                   bool
	addDummyPrefix, removeExtraWS  bool
	escapeWS                       bool
	unkSurface, normalizerRuleName string
}

// LoadSentencePiece reads a SentencePiece ModelProto (.model file).
func LoadSentencePiece(path string) (*SentencePiece, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return parseSentencePiece(data, path)
}

// protoFields walks the fields of one protobuf message, calling f with each
// field's number, wire type and value bytes (the payload for length-delimited
// fields, the encoded value otherwise).
func protoFields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		v := b[:m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}

// protoScalar decodes a varint or fixed32 field value into its bits.
func protoScalar(num protowire.Number, typ protowire.Type, v []byte, want protowire.Type) (uint64, error) {
	if typ != want {
		return 0, fmt.Errorf("field %d has wire type %d, want %d", num, typ, want)
	}
	if typ == protowire.Fixed32Type {
		x, _ := protowire.ConsumeFixed32(v)
		return uint64(x), nil
	}
	x, _ := protowire.ConsumeVarint(v)
	return x, nil
}

func parseSentencePiece(data []byte, path string) (*SentencePiece, error) {
	if len(data) == 0 {
		return nil, badf(path, "empty file; a SentencePiece .model is a serialized ModelProto")
	}
	t := &SentencePiece{
		modelType: spUnigram, unk: 0, bos: 1, eos: 2,
		addDummyPrefix: true, removeExtraWS: true, escapeWS: true,
		unkSurface: " \u2047 ",
	}
	var charsmap []byte
	var suffix bool
	err := protoFields(data, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch num {
		case 1: // SentencePiece pieces
			if typ != protowire.BytesType {
				return fmt.Errorf("field 1 (pieces) has wire type %d", typ)
			}
			piece, score, ptype := "", float32(0), int8(spNormal)
			err := protoFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				var x uint64
				var err error
				switch num {
				case 1:
					if typ != protowire.BytesType {
						return fmt.Errorf("piece text has wire type %d", typ)
					}
					piece = string(v)
				case 2:
					x, err = protoScalar(num, typ, v, protowire.Fixed32Type)
					score = math.Float32frombits(uint32(x))
				case 3:
					x, err = protoScalar(num, typ, v, protowire.VarintType)
					ptype = int8(min(x, 127))
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("piece %d: %v", len(t.pieces), err)
			}
			if ptype < spNormal || ptype > spByte {
				return fmt.Errorf("piece %d (%q) has unknown type %d", len(t.pieces), piece, ptype)
			}
			t.pieces = append(t.pieces, piece)
			t.scores = append(t.scores, score)
			t.types = append(t.types, ptype)
		case 2: // TrainerSpec
			return protoFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				var x uint64
				var err error
				switch num {
				case 3, 24, 35, 40, 41, 42:
					x, err = protoScalar(num, typ, v, protowire.VarintType)
				case 44:
					if typ != protowire.BytesType {
						return fmt.Errorf("trainer_spec.unk_surface has wire type %d", typ)
					}
					t.unkSurface = string(v)
				}
				switch num {
				case 3:
					t.modelType = int(x)
				case 24:
					suffix = x != 0
				case 35:
					t.byteFallback = x != 0
				case 40:
					t.unk = int(int32(x))
				case 41:
					t.bos = int(int32(x))
				case 42:
					t.eos = int(int32(x))
				}
				return err
			})
		case 3: // NormalizerSpec
			return protoFields(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				var x uint64
				var err error
				switch num {
				case 1:
					t.normalizerRuleName = string(v)
				case 2:
					charsmap = v
				case 3, 4, 5:
					x, err = protoScalar(num, typ, v, protowire.VarintType)
				}
				switch num {
				case 3:
					t.addDummyPrefix = x != 0
				case 4:
					t.removeExtraWS = x != 0
				case 5:
					t.escapeWS = x != 0
				}
				return err
			})
		}
		return nil
	})
	if err != nil {
		return nil, badf(path, "not a valid SentencePiece ModelProto: %v", err)
	}
	if len(t.pieces) == 0 {
		return nil, badf(path, "no pieces; not a SentencePiece model")
	}
	switch t.modelType {
	case spBPE, spChar:
	case spUnigram:
		return nil, unsupportedf(path, "Unigram SentencePiece models are not supported, only BPE and CHAR; convert the model or use its tokenizer.json")
	default:
		return nil, unsupportedf(path, "SentencePiece model type %d is not supported, only BPE (2) and CHAR (4)", t.modelType)
	}
	if len(charsmap) > 0 {
		return nil, unsupportedf(path, "normalizer %q uses a precompiled character map, which is not supported; only models trained with normalization_rule_name=identity are", t.normalizerRuleName)
	}
	if suffix {
		return nil, unsupportedf(path, "treat_whitespace_as_suffix is not supported")
	}
	if t.unk < 0 || t.unk >= len(t.pieces) || t.types[t.unk] != spUnknown {
		return nil, badf(path, "unk_id %d is not an UNKNOWN piece", t.unk)
	}
	t.bos = controlID(t.bos, t.types)
	t.eos = controlID(t.eos, t.types)

	t.lookup = make(map[string]int32, len(t.pieces))
	for i := range t.byteIDs {
		t.byteIDs[i] = -1
	}
	for id, p := range t.pieces {
		switch t.types[id] {
		case spUnused:
			return nil, unsupportedf(path, "piece %d (%q) is UNUSED; models with unused pieces are not supported", id, p)
		case spUserDefined:
			t.userDefined = append(t.userDefined, p)
		case spByte:
			b, ok := parseBytePiece(p)
			if !ok {
				return nil, badf(path, "BYTE piece %d is %q, want <0xXX>", id, p)
			}
			t.byteIDs[b] = int32(id)
		}
		if _, dup := t.lookup[p]; !dup {
			t.lookup[p] = int32(id)
		}
	}
	sort.Slice(t.userDefined, func(i, j int) bool { return len(t.userDefined[i]) > len(t.userDefined[j]) })
	if t.modelType == spBPE {
		// sentencepiece merges into NORMAL and USER_DEFINED pieces only.
		t.merges = scoreMerges(t.pieces, t.scores, t.lookup, func(id int) bool {
			return t.types[id] == spNormal || t.types[id] == spUserDefined
		})
	}
	return t, nil
}

// controlID returns id when it names a CONTROL piece, else -1.
func controlID(id int, types []int8) int {
	if id < 0 || id >= len(types) || types[id] != spControl {
		return -1
	}
	return id
}

// normalize applies the normalizer spec without a character map, as
// sentencepiece's Normalizer::Normalize does: drop leading, trailing and
// repeated spaces (remove_extra_whitespaces), add the dummy prefix and write
// spaces as "▁" (escape_whitespaces). Invalid UTF-8 bytes become U+FFFD.
func (t *SentencePiece) normalize(text string) string {
	if t.removeExtraWS {
		text = strings.TrimLeft(text, " ")
	}
	if text == "" {
		return ""
	}
	space := " "
	if t.escapeWS {
		space = spaceSymbol
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/4)
	if t.addDummyPrefix {
		b.WriteString(space)
	}
	prevSpace := t.removeExtraWS
	for _, r := range text { // a range loop yields U+FFFD for each invalid byte
		if r == ' ' {
			if !prevSpace {
				b.WriteString(space)
			}
			prevSpace = t.removeExtraWS
			continue
		}
		b.WriteRune(r)
		prevSpace = false
	}
	out := b.String()
	if t.removeExtraWS {
		for strings.HasSuffix(out, space) {
			out = out[:len(out)-len(space)]
		}
	}
	return out
}

// Encode normalizes text, splits it into characters (USER_DEFINED pieces
// are kept whole), applies the BPE merges by score and maps characters that
// are not pieces to their UTF-8 byte pieces (byte_fallback) or to unk.
func (t *SentencePiece) Encode(text string, bos bool) []int {
	return t.encode(&merger{}, text, bos)
}

func (t *SentencePiece) encode(m *merger, text string, bos bool) []int {
	norm := t.normalize(text)
	// Symbols not in the vocabulary get id -1 and keep their text in unknown.
	ids := make([]int32, 0, len(norm))
	var unknown []string
	for i := 0; i < len(norm) && !m.stop(); {
		n := 0
		for _, u := range t.userDefined {
			if strings.HasPrefix(norm[i:], u) {
				n = len(u)
				break
			}
		}
		if n == 0 {
			_, n = utf8.DecodeRuneInString(norm[i:])
		}
		if id, ok := t.lookup[norm[i:i+n]]; ok {
			ids = append(ids, id)
		} else {
			ids = append(ids, -1-int32(len(unknown)))
			unknown = append(unknown, norm[i:i+n])
		}
		i += n
	}
	ids = m.merge(t.merges, ids)
	out := make([]int, 0, len(ids)+1)
	if bos && t.bos >= 0 {
		out = append(out, t.bos)
	}
	for _, id := range ids {
		if id >= 0 {
			out = append(out, int(id))
			continue
		}
		s := unknown[-1-id]
		if t.byteFallback && t.hasBytes(s) {
			for i := 0; i < len(s); i++ {
				out = append(out, int(t.byteIDs[s[i]]))
			}
		} else {
			out = append(out, t.unk)
		}
	}
	return out
}

func (t *SentencePiece) hasBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if t.byteIDs[s[i]] < 0 {
			return false
		}
	}
	return true
}

// Decode follows sentencepiece's DecodeIds: control pieces vanish, unk gives
// the model's unk_surface, runs of byte pieces become their bytes (U+FFFD
// for each byte that is not valid UTF-8), "▁" becomes a space and the
// leading space that the dummy prefix added is removed.
func (t *SentencePiece) Decode(ids []int) string {
	var b strings.Builder
	var bytes []byte
	flush := func() {
		b.WriteString(lossyUTF8(bytes))
		bytes = bytes[:0]
	}
	bosWS := true // still at the start, where a dummy-prefix space is removed
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) {
			continue
		}
		if t.types[id] == spByte {
			x, _ := parseBytePiece(t.pieces[id])
			bytes = append(bytes, x)
			continue
		}
		flush()
		var surface string
		switch t.types[id] {
		case spControl:
		case spUnknown:
			surface = t.unkSurface
			bosWS = false
		default:
			p := t.pieces[id]
			consumed := false
			if bosWS && (t.addDummyPrefix || t.removeExtraWS) {
				p, consumed = strings.CutPrefix(p, spaceSymbol)
				if t.removeExtraWS {
					consumed = false // keep removing leading spaces
				}
			}
			surface = strings.ReplaceAll(p, spaceSymbol, " ")
			if surface != "" || consumed {
				bosWS = false
			}
		}
		b.WriteString(surface)
	}
	flush()
	return b.String()
}

// Piece decodes one token with llama2.c semantics (see Tokenizer.Piece).
func (t *SentencePiece) Piece(prev, id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	switch t.types[id] {
	case spControl:
		return ""
	case spUnknown:
		return t.unkSurface
	case spByte:
		b, _ := parseBytePiece(t.pieces[id])
		return byteStrings[b]
	}
	p := strings.ReplaceAll(t.pieces[id], spaceSymbol, " ")
	if prev == t.bos && prev >= 0 {
		p = strings.TrimPrefix(p, " ")
	}
	return p
}

// VocabSize is the number of pieces.
func (t *SentencePiece) VocabSize() int { return len(t.pieces) }

// BOS is the trainer's bos_id, or -1.
func (t *SentencePiece) BOS() int { return t.bos }

// EOS is the trainer's eos_id, or -1.
func (t *SentencePiece) EOS() int { return t.eos }

// Settings describes the options that shape encoding, for documentation and
// debugging, e.g. "bpe byte_fallback=false add_dummy_prefix=true ...".
func (t *SentencePiece) Settings() string {
	kind := map[int]string{spBPE: "bpe", spChar: "char"}[t.modelType]
	return fmt.Sprintf("%s normalizer=%s byte_fallback=%t add_dummy_prefix=%t remove_extra_whitespaces=%t escape_whitespaces=%t unk_surface=%q",
		kind, t.normalizerRuleName, t.byteFallback, t.addDummyPrefix, t.removeExtraWS, t.escapeWS, t.unkSurface)
}
