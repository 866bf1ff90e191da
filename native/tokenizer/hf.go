package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HF is a tokenizer read from a Hugging Face tokenizer.json with a BPE
// model. It follows the tokenizers library's pipeline: added tokens are
// split off the raw text first, each remaining section is normalized,
// pre-tokenized and run through BPE, and decoding applies the file's
// decoder chain.
type HF struct {
	vocab        map[string]int32
	tokens       []string // id -> token ("" where the id is unused)
	special      []bool   // id -> special added token (decodes to nothing)
	merges       mergeTable
	unk          int32 // -1 if none
	byteFallback bool
	fuseUnk      bool
	ignoreMerges bool
	byteIDs      [256]int32 // id of <0xXX>, or -1

	added        []hfAddedToken
	addedByFirst [256][]int32 // indexes into added by first byte, longest first

	normalizers   []normalizer
	preTokenizers []preTokenizer
	decoders      []decoder
	byteLevel     bool   // tokens are GPT-2 byte-level strings
	spaceMark     string // the character that stands for a space ("▁"), if any

	bos, eos int
}

// hfAddedToken is an entry of added_tokens. Its single_word and normalized
// flags are not read: every added token is matched in the raw text, as
// transformers.js does (Llama 2 and 3 files set neither).
type hfAddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	LStrip  bool   `json:"lstrip"`
	RStrip  bool   `json:"rstrip"`
	Special bool   `json:"special"`
}

type hfFile struct {
	AddedTokens   []hfAddedToken `json:"added_tokens"`
	Normalizer    *hfComponent   `json:"normalizer"`
	PreTokenizer  *hfComponent   `json:"pre_tokenizer"`
	PostProcessor *hfComponent   `json:"post_processor"`
	Decoder       *hfComponent   `json:"decoder"`
	Model         struct {
		Type                    string          `json:"type"`
		Vocab                   json.RawMessage `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		FuseUnk                 bool            `json:"fuse_unk"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
	} `json:"model"`
}

// LoadHF reads a Hugging Face tokenizer.json whose model is BPE: the
// Llama 2 style (byte_fallback, "▁" for spaces via Prepend+Replace
// normalizers or a Metaspace pre-tokenizer) and the GPT-2/Llama 3 style
// (byte-level BPE after a regex Split pre-tokenizer) are both covered.
//
// BOS is the special token that the post-processor's TemplateProcessing puts
// before the text; without one, the added token <|begin_of_text|>, <s> or
// <bos>. EOS is the added token <|end_of_text|>, </s>, <eos> or
// <|endoftext|>. Either is -1 when none is found. Dropout is ignored:
// encoding is deterministic.
func LoadHF(path string) (*HF, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return parseHF(data, path)
}

func parseHF(data []byte, path string) (*HF, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, badf(path, "not a valid tokenizer.json: %v", err)
	}
	m := &f.Model
	switch {
	case m.Type == "" && len(m.Vocab) == 0:
		return nil, badf(path, "no model section; a tokenizer.json has a \"model\" with a vocab")
	case m.Type != "" && m.Type != "BPE":
		return nil, unsupportedf(path, "model type %q is not supported, only BPE", m.Type)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "",
		m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, unsupportedf(path, "BPE with continuing_subword_prefix or end_of_word_suffix is not supported")
	}
	t := &HF{unk: -1, byteFallback: m.ByteFallback, fuseUnk: m.FuseUnk, ignoreMerges: m.IgnoreMerges}
	if err := json.Unmarshal(m.Vocab, &t.vocab); err != nil {
		return nil, badf(path, "model.vocab is not a map from token to id: %v", err)
	}
	if len(t.vocab) == 0 {
		return nil, badf(path, "model.vocab is empty")
	}
	// Ids are dense in real files; a far larger id is corruption, and
	// would make the id table huge.
	limit := 2*(len(t.vocab)+len(f.AddedTokens)) + 1024
	size := 0
	for tok, id := range t.vocab {
		if id < 0 || int(id) >= limit {
			return nil, badf(path, "model.vocab gives %q the id %d, outside 0..%d", tok, id, limit-1)
		}
		size = max(size, int(id)+1)
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= limit || a.Content == "" {
			return nil, badf(path, "added token %q has id %d; want a non-empty token with id in 0..%d", a.Content, a.ID, limit-1)
		}
		size = max(size, a.ID+1)
	}
	t.tokens = make([]string, size)
	t.special = make([]bool, size)
	for tok, id := range t.vocab {
		t.tokens[id] = tok
	}
	for _, a := range f.AddedTokens {
		t.tokens[a.ID] = a.Content
		t.special[a.ID] = a.Special
		if _, ok := t.vocab[a.Content]; !ok {
			t.vocab[a.Content] = int32(a.ID)
		}
	}
	if m.UnkToken != nil {
		id, ok := t.vocab[*m.UnkToken]
		if !ok {
			return nil, badf(path, "unk_token %q is not in the vocabulary", *m.UnkToken)
		}
		t.unk = id
	}
	for b := range t.byteIDs {
		t.byteIDs[b] = -1
		if id, ok := t.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			t.byteIDs[b] = id
		}
	}
	var err error
	if t.merges, err = parseMerges(m.Merges, t.vocab, path); err != nil {
		return nil, err
	}
	t.setAddedTokens(f.AddedTokens)
	if t.normalizers, err = buildNormalizers(f.Normalizer, path); err != nil {
		return nil, err
	}
	if t.preTokenizers, err = buildPreTokenizers(f.PreTokenizer, path); err != nil {
		return nil, err
	}
	if t.decoders, err = buildDecoders(f.Decoder, path); err != nil {
		return nil, err
	}
	t.byteLevel, t.spaceMark = decoderStyle(f.Decoder)
	t.bos = t.templateBOS(f.PostProcessor)
	if t.bos < 0 {
		t.bos = t.firstAdded("<|begin_of_text|>", "<s>", "<bos>")
	}
	t.eos = t.firstAdded("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>")
	return t, nil
}

// parseMerges reads model.merges in either format: "left right" strings
// (tokenizers < 0.20) or [left, right] pairs. Rank i is the i-th merge.
func parseMerges(raw json.RawMessage, vocab map[string]int32, path string) (mergeTable, error) {
	var pairs [][2]string
	inner := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("[")), " \t\r\n")
	if len(inner) > 0 && inner[0] == '[' {
		if err := json.Unmarshal(raw, &pairs); err != nil {
			return nil, badf(path, "model.merges is not a list of [left, right] pairs: %v", err)
		}
	} else if len(raw) > 0 && string(raw) != "null" {
		var lines []string
		if err := json.Unmarshal(raw, &lines); err != nil {
			return nil, badf(path, "model.merges is not a list of \"left right\" strings: %v", err)
		}
		pairs = make([][2]string, len(lines))
		for i, l := range lines {
			left, right, ok := strings.Cut(l, " ")
			if !ok || strings.Contains(right, " ") {
				return nil, badf(path, "merge %d %q is not two tokens separated by one space", i, l)
			}
			pairs[i] = [2]string{left, right}
		}
	}
	table := make(mergeTable, len(pairs))
	for rank, p := range pairs {
		l, okL := vocab[p[0]]
		r, okR := vocab[p[1]]
		id, okM := vocab[p[0]+p[1]]
		if !okL || !okR || !okM {
			return nil, badf(path, "merge %d (%q, %q) uses a token that is not in the vocabulary", rank, p[0], p[1])
		}
		if _, dup := table[pairKey(l, r)]; !dup {
			table[pairKey(l, r)] = mergeRule{id: id, prio: float64(rank)}
		}
	}
	return table, nil
}

func (t *HF) setAddedTokens(added []hfAddedToken) {
	t.added = added
	for i, a := range added {
		t.addedByFirst[a.Content[0]] = append(t.addedByFirst[a.Content[0]], int32(i))
	}
	for _, list := range t.addedByFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(added[list[i]].Content) > len(added[list[j]].Content) })
	}
}

// decoderStyle tells how single tokens turn into text for Piece: byte-level
// (a ByteLevel decoder) or with a character standing for spaces.
func decoderStyle(c *hfComponent) (byteLevel bool, spaceMark string) {
	if c == nil {
		return false, ""
	}
	switch c.Type {
	case "ByteLevel":
		return true, ""
	case "Metaspace":
		return false, c.Replacement
	case "Replace":
		if c.Pattern != nil && c.Pattern.String != nil && c.Content == " " {
			return false, *c.Pattern.String
		}
	case "Sequence":
		for i := range c.Decoders {
			if b, s := decoderStyle(&c.Decoders[i]); b || s != "" {
				return b, s
			}
		}
	}
	return false, ""
}

// templateBOS returns the special token that TemplateProcessing puts before
// the single sequence, or -1.
func (t *HF) templateBOS(c *hfComponent) int {
	if c == nil {
		return -1
	}
	if c.Type == "Sequence" {
		for i := range c.Processors {
			if id := t.templateBOS(&c.Processors[i]); id >= 0 {
				return id
			}
		}
	}
	if c.Type != "TemplateProcessing" || len(c.Single) < 2 || c.Single[0].SpecialToken == nil || c.Single[1].Sequence == nil {
		return -1
	}
	st, ok := c.SpecialTokens[c.Single[0].SpecialToken.ID]
	if !ok || len(st.IDs) != 1 || st.IDs[0] < 0 || st.IDs[0] >= len(t.tokens) {
		return -1
	}
	return st.IDs[0]
}

// firstAdded returns the id of the first of names that is an added token.
func (t *HF) firstAdded(names ...string) int {
	for _, n := range names {
		for _, a := range t.added {
			if a.Content == n {
				return a.ID
			}
		}
	}
	return -1
}

// section is a piece of the input: either an added token (id >= 0) or text.
type section struct {
	text  string
	id    int
	start int // byte offset in the input
}

// splitAdded splits text at the added tokens (leftmost, then longest match)
// and applies their lstrip/rstrip, as the tokenizers library does before
// normalization.
func (t *HF) splitAdded(text string) []section {
	var out []section
	start := 0
	for i := 0; i < len(text); {
		var hit *hfAddedToken
		for _, k := range t.addedByFirst[text[i]] {
			if strings.HasPrefix(text[i:], t.added[k].Content) {
				hit = &t.added[k]
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		before := text[start:i]
		if hit.LStrip {
			before = strings.TrimRightFunc(before, unicode.IsSpace)
		}
		out = append(out, section{before, -1, start}, section{hit.Content, hit.ID, i})
		i += len(hit.Content)
		if hit.RStrip {
			for i < len(text) {
				r, n := utf8.DecodeRuneInString(text[i:])
				if !unicode.IsSpace(r) {
					break
				}
				i += n
			}
		}
		start = i
	}
	return append(out, section{text[start:], -1, start})
}

// Encode runs the pipeline; BOS is prepended when bos is true and known.
//
// Encode panics with the error of EncodeErr when a pre-tokenizer pattern
// times out, which only a damaged or hostile tokenizer.json can cause;
// callers that load tokenizer files they do not trust should call EncodeErr
// (or the package function EncodeErr) instead.
func (t *HF) Encode(text string, bos bool) []int {
	ids, err := t.EncodeErr(text, bos)
	if err != nil {
		panic(err)
	}
	return ids
}

// EncodeErr is Encode with an error instead of a panic. Its only error is a
// pre-tokenizer Split pattern that takes longer than one second (a generous
// budget: real patterns take microseconds) to find one match, such as the
// catastrophically backtracking `(a|aa)+$`; the error wraps ErrBadTokenizer.
func (t *HF) EncodeErr(text string, bos bool) ([]int, error) {
	return t.encode(&merger{}, text, bos)
}

func (t *HF) encode(m *merger, text string, bos bool) ([]int, error) {
	var out []int
	if bos && t.bos >= 0 {
		out = append(out, t.bos)
	}
	var word []int32
	for _, sec := range t.splitAdded(text) {
		if sec.id >= 0 {
			out = append(out, sec.id)
			continue
		}
		s := sec.text
		for _, n := range t.normalizers {
			s = n(s)
		}
		if s == "" {
			continue
		}
		spans := []span{{s, sec.start == 0}}
		for _, p := range t.preTokenizers {
			var err error
			if spans, err = p(&m.stopper, spans); err != nil {
				return nil, err
			}
		}
		for _, sp := range spans {
			if m.stop() {
				return nil, nil
			}
			word = t.bpeWord(m, word[:0], sp.text)
			for _, id := range word {
				out = append(out, int(id))
			}
		}
	}
	return out, nil
}

// bpeWord appends the ids of one pre-token to dst.
func (t *HF) bpeWord(m *merger, dst []int32, w string) []int32 {
	if w == "" {
		return dst
	}
	if t.ignoreMerges {
		if id, ok := t.vocab[w]; ok {
			return append(dst, id)
		}
	}
	start := len(dst)
	for i := 0; i < len(w); {
		_, n := utf8.DecodeRuneInString(w[i:])
		ch := w[i : i+n]
		i += n
		if id, ok := t.vocab[ch]; ok {
			dst = append(dst, id)
			continue
		}
		if t.byteFallback && t.allBytes(ch) {
			for k := 0; k < len(ch); k++ {
				dst = append(dst, t.byteIDs[ch[k]])
			}
			continue
		}
		if t.unk >= 0 && !(t.fuseUnk && len(dst) > start && dst[len(dst)-1] == t.unk) {
			dst = append(dst, t.unk)
		}
	}
	merged := m.merge(t.merges, dst[start:])
	return dst[:start+len(merged)]
}

func (t *HF) allBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if t.byteIDs[s[i]] < 0 {
			return false
		}
	}
	return true
}

// Decode runs the file's decoder chain over the tokens; special added
// tokens are left out.
func (t *HF) Decode(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) && !t.special[id] && t.tokens[id] != "" {
			toks = append(toks, t.tokens[id])
		}
	}
	if len(t.decoders) == 0 {
		return strings.Join(toks, " ") // the library's default without a decoder
	}
	for _, d := range t.decoders {
		toks = d(toks)
	}
	return strings.Join(toks, "")
}

// Piece decodes one token with llama2.c semantics (see Tokenizer.Piece).
func (t *HF) Piece(prev, id int) string {
	if id < 0 || id >= len(t.tokens) || t.special[id] {
		return ""
	}
	tok := t.tokens[id]
	if t.byteLevel {
		return string(fromByteLevel(nil, tok))
	}
	if b, ok := parseBytePiece(tok); ok && t.byteFallback {
		return byteStrings[b]
	}
	if t.spaceMark != "" {
		tok = strings.ReplaceAll(tok, t.spaceMark, " ")
	}
	if prev == t.bos && prev >= 0 {
		tok = strings.TrimPrefix(tok, " ")
	}
	return tok
}

// VocabSize is the largest id of the vocabulary and added tokens plus one.
func (t *HF) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence id (see LoadHF), or -1.
func (t *HF) BOS() int { return t.bos }

// EOS is the end-of-sequence id (see LoadHF), or -1.
func (t *HF) EOS() int { return t.eos }
