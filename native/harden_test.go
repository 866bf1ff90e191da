package native

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Crafted checkpoints whose headers or configs describe absurd models must
// be refused with an error before anything is allocated. Each one is first
// loaded in a child process (a re-run of this test binary, with its address
// space capped where the platform allows), so that a loader that trusts the
// header fails this test instead of killing the whole suite with "fatal
// error: out of memory".

const (
	craftedKindEnv = "PPF_NATIVE_CRAFTED_KIND"
	craftedDirEnv  = "PPF_NATIVE_CRAFTED_DIR"
)

func llama2cHeader(vals ...int32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

// overflowLlama2C is the 4,124-byte file of the issue: the header's size
// sum overflows int64 and used to wrap around to the file's size.
func overflowLlama2C() []byte {
	return append(llama2cHeader(1048576, 524287, 1048576, 1024, 256, 1048575, 1), make([]byte, 4096)...)
}

// emptySafetensors is a safetensors file with no tensors.
var emptySafetensors = []byte("\x02\x00\x00\x00\x00\x00\x00\x00{}")

func hugeLayersConfig(layers int) []byte {
	return fmt.Appendf(nil, `{"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": %d,
"num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 512}`, layers)
}

type craftedCase struct {
	name    string
	kind    string // "llama2c": dir/m.bin; "hf": dir is the checkpoint
	files   map[string][]byte
	want    error
	substrs []string
}

func craftedCases() []craftedCase {
	return []craftedCase{
		{"llama2c size overflow", "llama2c", map[string][]byte{"m.bin": overflowLlama2C()}, ErrBadModel,
			[]string{"not a llama2.c checkpoint, or a damaged one", "overflow"}},
		{"llama2c version 1 size overflow", "llama2c", map[string][]byte{"m.bin": append(append(
			llama2cHeader(llama2cMagic, 1, 1048576, 524287, 1048576, 1024, 256, 1048575, 1), make([]byte, 220)...), make([]byte, 4096)...)},
			ErrBadModel, []string{"not a llama2.c checkpoint, or a damaged one", "overflow"}},
		{"llama2c huge layers", "llama2c", map[string][]byte{"m.bin": append(llama2cHeader(64, 172, 1<<21, 8, 4, 512, 512), make([]byte, 4096)...)},
			ErrBadModel, []string{"layers", "2097152", "limit 1048576"}},
		{"llama2c kv heads", "llama2c", map[string][]byte{"m.bin": append(llama2cHeader(64, 172, 5, 8, 3, 512, 512), make([]byte, 64)...)},
			ErrBadModel, []string{"kv heads", "do not fit"}},
		{"hf 16777216 layers, empty weights", "hf", map[string][]byte{"config.json": hugeLayersConfig(16777216), "model.safetensors": emptySafetensors},
			ErrBadModel, []string{"num_hidden_layers", "16777216", "limit 1048576"}},
		{"hf 1048576 layers, empty weights", "hf", map[string][]byte{"config.json": hugeLayersConfig(1 << 20), "model.safetensors": emptySafetensors},
			ErrBadModel, []string{"config.json", "1048576 layers", "model.safetensors"}},
		{"hf huge vocab, empty weights", "hf", map[string][]byte{"config.json": []byte(`{"model_type": "llama", "hidden_size": 1048576, "intermediate_size": 16777216,
"num_hidden_layers": 1, "num_attention_heads": 1024, "vocab_size": 16777216}`), "model.safetensors": emptySafetensors},
			ErrBadModel, []string{"config.json", "bytes", "model.safetensors"}},
	}
}

func writeCrafted(t testing.TB, dir string, files map[string][]byte) {
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func loadCrafted(kind, dir string) error {
	var err error
	switch kind {
	case "llama2c":
		_, err = LoadLlama2C(filepath.Join(dir, "m.bin"))
	case "hf":
		_, err = LoadHF(dir)
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	return err
}

// TestCraftedChild is the child process of TestCraftedCheckpointsFailCleanly.
func TestCraftedChild(t *testing.T) {
	kind := os.Getenv(craftedKindEnv)
	if kind == "" {
		t.Skip("runs only as the child of TestCraftedCheckpointsFailCleanly")
	}
	limitAddressSpace(8 << 30)
	err := loadCrafted(kind, os.Getenv(craftedDirEnv))
	fmt.Printf("CRAFTED-RESULT: %v\n", err)
}

func TestCraftedCheckpointsFailCleanly(t *testing.T) {
	for _, tc := range craftedCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCrafted(t, dir, tc.files)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCraftedChild$", "-test.v")
			cmd.Env = append(os.Environ(), craftedKindEnv+"="+tc.kind, craftedDirEnv+"="+dir, "GOTRACEBACK=single")
			out, err := cmd.CombinedOutput()
			if err != nil {
				if len(out) > 2000 {
					out = out[:2000]
				}
				t.Fatalf("loading the crafted file crashed the process (%v); the loader trusted its header:\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("CRAFTED-RESULT: ")) || bytes.Contains(out, []byte("CRAFTED-RESULT: <nil>")) {
				t.Fatalf("the crafted file loaded without an error:\n%s", out)
			}
			// The child survived: load it here too, to check the error itself.
			start := time.Now()
			err = loadCrafted(tc.kind, dir)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("refusing the crafted file took %v", d)
			}
			t.Log(err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.substrs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// tinyConfig is a model small enough for a fuzz seed.
var tinyConfig = Config{Dim: 8, HiddenDim: 12, NumLayers: 2, NumHeads: 2, NumKVHeads: 1, HeadDim: 4,
	VocabSize: 10, SeqLen: 8, RopeTheta: 10000, NormEps: 1e-5}

// tinyLegacyLlama2C synthesizes a legacy-format file (7-int header, zero
// weights, including the unused RoPE tables) for tinyConfig.
func tinyLegacyLlama2C(shared bool) []byte {
	c := tinyConfig
	L, D, H, V, kv := c.NumLayers, c.Dim, c.HiddenDim, c.VocabSize, c.NumKVHeads*c.HeadDim
	floats := V*D + L*(2*D+D*D+2*D*kv+D*D+3*D*H) + D + c.SeqLen*c.HeadDim
	vocab := int32(V)
	if !shared {
		floats += V * D
		vocab = -vocab
	}
	return append(llama2cHeader(int32(D), int32(H), int32(L), int32(c.NumHeads), int32(c.NumKVHeads), vocab, int32(c.SeqLen)), make([]byte, 4*floats)...)
}

func FuzzLoadLlama2C(f *testing.F) {
	dir := f.TempDir()
	v1 := filepath.Join(dir, "v1.bin")
	if err := SaveLlama2C(RandomModel(tinyConfig, 1), v1); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(v1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(tinyLegacyLlama2C(true))
	f.Add(tinyLegacyLlama2C(false))
	for _, tc := range craftedCases() {
		if tc.kind == "llama2c" {
			f.Add(tc.files["m.bin"])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "m.bin")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadLlama2C(path)
		if err != nil {
			if !errors.Is(err, ErrBadModel) && !errors.Is(err, ErrUnsupportedModel) {
				t.Fatalf("error %v wraps neither ErrBadModel nor ErrUnsupportedModel", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("loaded a model that does not validate: %v", err)
		}
	})
}

func FuzzLoadHF(f *testing.F) {
	dir := f.TempDir()
	if err := SaveHF(RandomModel(tinyConfig, 2), dir); err != nil {
		f.Fatal(err)
	}
	cfg, err1 := os.ReadFile(filepath.Join(dir, "config.json"))
	st, err2 := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err := errors.Join(err1, err2); err != nil {
		f.Fatal(err)
	}
	f.Add(cfg, st)
	f.Add(cfg, emptySafetensors)
	f.Add(cfg, st[:len(st)-4])
	for _, tc := range craftedCases() {
		if tc.kind == "hf" {
			f.Add(tc.files["config.json"], tc.files["model.safetensors"])
			f.Add(tc.files["config.json"], st)
		}
	}
	f.Fuzz(func(t *testing.T, config, weights []byte) {
		if len(config)+len(weights) > 1<<20 {
			t.Skip()
		}
		dir := t.TempDir()
		writeCrafted(t, dir, map[string][]byte{"config.json": config, "model.safetensors": weights})
		m, err := LoadHF(dir)
		if err != nil {
			if !errors.Is(err, ErrBadModel) && !errors.Is(err, ErrUnsupportedModel) {
				t.Fatalf("error %v wraps neither ErrBadModel nor ErrUnsupportedModel", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("loaded a model that does not validate: %v", err)
		}
	})
}

func TestByteCount(t *testing.T) {
	var b byteCount
	b.add(4, 1<<20, 1<<20)
	b.add(28)
	if n, ok := b.value(); !ok || n != 4<<40+28 {
		t.Fatalf("got %d, %v", n, ok)
	}
	b.add(1<<20, 1<<20, 1<<20, 1<<20) // 2^80: the product overflows
	if _, ok := b.value(); ok {
		t.Fatal("a 2^80 product did not overflow")
	}
	var s byteCount
	s.add(1<<62, 1)
	s.add(1<<62, 1) // 2^63: the sum exceeds int64
	if _, ok := s.value(); ok {
		t.Fatal("a 2^63 sum did not overflow")
	}
	var neg byteCount
	neg.add(-1, 4)
	if _, ok := neg.value(); ok {
		t.Fatal("a negative factor was accepted")
	}
}

// A binary file given as text is refused, not measured; text with a few
// stray bytes (Latin-1 quotes) still reads.
func TestReadTextRefusesBinary(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		ok   bool
	}{
		"checkpoint.bin": {[]byte("\x00\x01\x00\x00 weights"), false},
		"latin1.txt":     {append([]byte("It was a \x93quiet\x94 day. "), bytes.Repeat([]byte("Once upon a time. "), 20)...), true},
		"noise.dat":      {bytes.Repeat([]byte{0xff, 0xfe, 'a'}, 100), false},
		"story.txt":      {[]byte("Once upon a time.\r\nThe end.\r"), true},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ReadText(path)
		if c.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !c.ok && !errors.Is(err, ErrNotText) {
			t.Errorf("%s: %q, %v; want ErrNotText", name, s, err)
		}
	}
	if s, _ := ReadText(filepath.Join(dir, "story.txt")); s != "Once upon a time.\nThe end.\n" {
		t.Errorf("line endings: %q", s)
	}
}
