package tokenizer

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	// Go's regexp has no lookahead, and the pre-tokenizer patterns of
	// GPT-2, Llama 3 and others end in `\s+(?!\S)`. regexp2 (a port of .NET's
	// engine) runs the pattern exactly as written in tokenizer.json, so any
	// model's pattern works without a hand-written scanner per model; its
	// \s, \p{L} and \p{N} follow Unicode as the Rust tokenizers library
	// does. The golden tests check it against the reference on WikiText-2.
	"github.com/dlclark/regexp2/v2"
)

// This file holds the Hugging Face pipeline stages other than the model:
// normalizers, pre-tokenizers and decoders, built from tokenizer.json.

// hfComponent is the union of the fields of the pipeline components that
// this package understands; "type" says which fields apply.
type hfComponent struct {
	Type string `json:"type"`

	Normalizers   []hfComponent `json:"normalizers"`   // Sequence normalizer
	Pretokenizers []hfComponent `json:"pretokenizers"` // Sequence pre-tokenizer
	Decoders      []hfComponent `json:"decoders"`      // Sequence decoder
	Processors    []hfComponent `json:"processors"`    // Sequence post-processor

	Prepend string `json:"prepend"` // Prepend
	Pattern *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"` // Replace, Split
	Content  string `json:"content"`  // Replace, Strip
	Behavior string `json:"behavior"` // Split
	Invert   bool   `json:"invert"`   // Split

	AddPrefixSpace *bool  `json:"add_prefix_space"` // ByteLevel, Metaspace (old)
	UseRegex       *bool  `json:"use_regex"`        // ByteLevel
	Replacement    string `json:"replacement"`      // Metaspace
	PrependScheme  string `json:"prepend_scheme"`   // Metaspace
	Split          *bool  `json:"split"`            // Metaspace
	Start, Stop    int    // Strip decoder

	Single []struct { // TemplateProcessing
		SpecialToken *struct{ ID string } `json:"SpecialToken"`
		Sequence     *struct{ ID string } `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

// gpt2Pattern is the split pattern of the ByteLevel pre-tokenizer when its
// use_regex is true.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteToRune is GPT-2's bytes_to_unicode table: printable bytes map to
// themselves, the others to U+0100 and up. runeToByte is its inverse.
var byteToRune, runeToByte = func() (fwd [256]rune, inv map[rune]byte) {
	inv = make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = rune(256 + n)
			n++
		}
		inv[fwd[b]] = byte(b)
	}
	return fwd, inv
}()

// normalizer rewrites one section of input text.
type normalizer func(string) string

func buildNormalizers(c *hfComponent, path string) ([]normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var out []normalizer
		for i := range c.Normalizers {
			n, err := buildNormalizers(&c.Normalizers[i], path)
			if err != nil {
				return nil, err
			}
			out = append(out, n...)
		}
		return out, nil
	case "Prepend":
		p := c.Prepend
		return []normalizer{func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}}, nil
	case "Replace":
		if c.Pattern == nil || c.Pattern.String == nil {
			return nil, unsupportedf(path, "normalizer Replace with a regex pattern is not supported, only a string pattern")
		}
		old, repl := *c.Pattern.String, c.Content
		return []normalizer{func(s string) string { return strings.ReplaceAll(s, old, repl) }}, nil
	}
	return nil, unsupportedf(path, "normalizer %q is not supported (supported: Sequence, Prepend, Replace)", c.Type)
}

// span is a piece of text during pre-tokenization; first is true when it
// starts at the beginning of the input.
type span struct {
	text  string
	first bool
}

// preTokenizer splits spans into smaller spans. Its only error is a
// *patternTimeoutError.
type preTokenizer func(*stopper, []span) ([]span, error)

func buildPreTokenizers(c *hfComponent, path string) ([]preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var out []preTokenizer
		for i := range c.Pretokenizers {
			p, err := buildPreTokenizers(&c.Pretokenizers[i], path)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	case "Split":
		if c.Pattern == nil {
			return nil, badf(path, "pre-tokenizer Split has no pattern")
		}
		expr := ""
		if c.Pattern.Regex != nil {
			expr = *c.Pattern.Regex
		} else if c.Pattern.String != nil {
			expr = regexp2.Escape(*c.Pattern.String)
		}
		if c.Invert || (c.Behavior != "Isolated" && c.Behavior != "Removed") {
			return nil, unsupportedf(path, "pre-tokenizer Split with behavior %q, invert=%t is not supported (only Isolated or Removed, not inverted)", c.Behavior, c.Invert)
		}
		re, err := compileSplit(expr)
		if err != nil {
			return nil, badf(path, "pre-tokenizer Split pattern %q: %v", expr, err)
		}
		keep := c.Behavior == "Isolated"
		return []preTokenizer{func(st *stopper, in []span) ([]span, error) { return regexSplit(st, re, in, keep, path) }}, nil
	case "ByteLevel":
		prefix := c.AddPrefixSpace != nil && *c.AddPrefixSpace
		var re *regexp2.Regexp
		if c.UseRegex == nil || *c.UseRegex {
			re, _ = compileSplit(gpt2Pattern) // a constant that compiles
		}
		return []preTokenizer{func(st *stopper, in []span) ([]span, error) {
			if prefix {
				for i := range in {
					if !strings.HasPrefix(in[i].text, " ") {
						in[i].text = " " + in[i].text
					}
				}
			}
			if re != nil {
				var err error
				if in, err = regexSplit(st, re, in, true, path); err != nil {
					return nil, err
				}
			}
			for i := range in {
				in[i].text = toByteLevel(in[i].text)
			}
			return in, nil
		}}, nil
	case "Metaspace":
		repl := c.Replacement
		if utf8.RuneCountInString(repl) != 1 {
			return nil, badf(path, "pre-tokenizer Metaspace replacement %q is not one character", repl)
		}
		scheme := metaspaceScheme(c)
		split := c.Split == nil || *c.Split
		return []preTokenizer{func(_ *stopper, in []span) ([]span, error) {
			var out []span
			for _, s := range in {
				t := strings.ReplaceAll(s.text, " ", repl)
				if (scheme == "always" || (scheme == "first" && s.first)) && !strings.HasPrefix(t, repl) {
					t = repl + t
				}
				if !split {
					out = append(out, span{t, s.first})
					continue
				}
				for first := s.first; t != ""; first = false { // split before each repl, keeping it
					i := strings.Index(t[len(repl):], repl)
					if i < 0 {
						out = append(out, span{t, first})
						break
					}
					out = append(out, span{t[:len(repl)+i], first})
					t = t[len(repl)+i:]
				}
			}
			return out, nil
		}}, nil
	}
	return nil, unsupportedf(path, "pre-tokenizer %q is not supported (supported: Sequence, Split, ByteLevel, Metaspace)", c.Type)
}

// metaspaceScheme returns "always", "first" or "never", reading the old
// add_prefix_space field when prepend_scheme is absent.
func metaspaceScheme(c *hfComponent) string {
	if c.PrependScheme != "" {
		return c.PrependScheme
	}
	if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
		return "never"
	}
	return "always"
}

// patternTimeout is how long one search for the next match of a
// pre-tokenizer pattern may take. The patterns of real tokenizers (GPT-2,
// Llama 3 and the like) find each match in microseconds, even in megabytes
// of text; a search that runs for a whole second is catastrophic
// backtracking, as in `(a|aa)+$`, which needs minutes for 41 characters.
// Such a pattern can only come from a damaged or hostile tokenizer.json,
// and encoding then fails with a *patternTimeoutError instead of hanging.
const patternTimeout = time.Second

// patternTimeoutError reports a pre-tokenizer pattern that took longer than
// patternTimeout to find a match. It wraps ErrBadTokenizer.
type patternTimeoutError struct {
	Path    string        // the tokenizer file
	Pattern string        // the regular expression, as in the file
	Timeout time.Duration // patternTimeout
}

func (e *patternTimeoutError) Error() string {
	return fmt.Sprintf("tokenizer: %s: the pre-tokenizer pattern %q took longer than %v to match: the tokenizer.json is damaged or hostile", e.Path, e.Pattern, e.Timeout)
}

// Unwrap makes errors.Is(err, ErrBadTokenizer) true.
func (e *patternTimeoutError) Unwrap() error { return ErrBadTokenizer }

// compileSplit compiles a pre-tokenizer pattern with no backtracking limit
// and a match timeout of patternTimeout: a match can only fail by timing
// out.
func compileSplit(expr string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(expr, regexp2.OptionMaxBacktrackingStackSize(-1))
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = patternTimeout // applies to each search for the next match
	return re, nil
}

// regexSplit splits each span at the matches of re: the matches and the
// text between them become spans (keep=true, "Isolated") or only the text
// between them does (keep=false, "Removed"). It fails only when a match
// takes longer than patternTimeout; path names the tokenizer file. It ends
// early, with what it has, when st says stop.
func regexSplit(st *stopper, re *regexp2.Regexp, in []span, keep bool, path string) ([]span, error) {
	var out []span
	for _, s := range in {
		add := func(from, to int) {
			if from < to {
				out = append(out, span{s.text[from:to], s.first && from == 0})
			}
		}
		// Matches come in rune offsets and in order: walk a byte offset
		// along with them. (utf8.DecodeRuneInString and []rune agree on
		// invalid bytes: one rune each.)
		runePos, bytePos := 0, 0
		toByte := func(r int) int {
			for ; runePos < r; runePos++ {
				_, n := utf8.DecodeRuneInString(s.text[bytePos:])
				bytePos += n
			}
			return bytePos
		}
		prev := 0
		err := re.FindRunesMatches([]rune(s.text), -1, func(m regexp2.MatchView) bool {
			at, n, _ := m.GroupRange(0)
			from := toByte(at)
			to := toByte(at + n)
			add(prev, from)
			if keep {
				add(from, to)
			}
			prev = to
			return !st.stop()
		})
		if err != nil {
			// regexp2's error quotes the whole input: report the pattern instead.
			return nil, &patternTimeoutError{Path: path, Pattern: re.String(), Timeout: re.MatchTimeout}
		}
		add(prev, len(s.text))
	}
	return out, nil
}

// toByteLevel writes each byte of s as its GPT-2 byte-level character.
func toByteLevel(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// fromByteLevel undoes toByteLevel for one token; a token holding a
// character outside the table is kept as its own UTF-8 bytes, as the Rust
// ByteLevel decoder does.
func fromByteLevel(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}

// decoder rewrites the list of token strings, as Hugging Face decoders do.
type decoder func([]string) []string

func buildDecoders(c *hfComponent, path string) ([]decoder, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var out []decoder
		for i := range c.Decoders {
			d, err := buildDecoders(&c.Decoders[i], path)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		return out, nil
	case "ByteLevel":
		return []decoder{func(toks []string) []string {
			var b []byte
			for _, t := range toks {
				b = fromByteLevel(b, t)
			}
			return []string{lossyUTF8(b)}
		}}, nil
	case "Replace":
		if c.Pattern == nil || c.Pattern.String == nil {
			return nil, unsupportedf(path, "decoder Replace with a regex pattern is not supported, only a string pattern")
		}
		old, repl := *c.Pattern.String, c.Content
		return []decoder{func(toks []string) []string {
			for i := range toks {
				toks[i] = strings.ReplaceAll(toks[i], old, repl)
			}
			return toks
		}}, nil
	case "ByteFallback":
		return []decoder{decodeByteFallback}, nil
	case "Fuse":
		return []decoder{func(toks []string) []string { return []string{strings.Join(toks, "")} }}, nil
	case "Strip":
		content, start, stop := c.Content, c.Start, c.Stop
		return []decoder{func(toks []string) []string {
			for i, t := range toks {
				for n := 0; n < start && strings.HasPrefix(t, content); n++ {
					t = t[len(content):]
				}
				for n := 0; n < stop && strings.HasSuffix(t, content); n++ {
					t = t[:len(t)-len(content)]
				}
				toks[i] = t
			}
			return toks
		}}, nil
	case "Metaspace":
		repl, scheme := c.Replacement, metaspaceScheme(c)
		return []decoder{func(toks []string) []string {
			for i := range toks {
				toks[i] = strings.ReplaceAll(toks[i], repl, " ")
				if i == 0 && scheme != "never" {
					toks[i] = strings.TrimPrefix(toks[i], " ")
				}
			}
			return toks
		}}, nil
	}
	return nil, unsupportedf(path, "decoder %q is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)", c.Type)
}

// decodeByteFallback turns runs of <0xXX> tokens into their text; a run that
// is not valid UTF-8 gives one U+FFFD per byte, as in the Rust library.
func decodeByteFallback(toks []string) []string {
	out := toks[:0:0]
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range toks {
		if b, ok := parseBytePiece(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// lossyUTF8 converts b to a string with U+FFFD for each invalid byte.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}
