package tokenizer

import "testing"

// BenchmarkEncodeWikiText encodes the whole WikiText-2 test split (1.3 MB,
// CRLF turned into LF) in one call.
func BenchmarkEncodeWikiText(b *testing.B) {
	text := wikiTestText(b)
	for _, c := range []struct {
		name string
		load func(testing.TB) Tokenizer
	}{
		{"tok512-bin", func(tb testing.TB) Tokenizer { return loadLlama2C(tb, "stories260K/tok512.bin") }},
		{"llama2-bin", func(tb testing.TB) Tokenizer { return loadLlama2C(tb, "llama2-tokenizer/tokenizer.bin") }},
		{"llama3-json", func(tb testing.TB) Tokenizer { return loadNpmHF(tb, "tokenizer-llama3") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			tok := c.load(b)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, true)
			}
		})
	}
}
