package native

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The version-1 export of a legacy checkpoint loads back with the same
// weights, and so with the same logits; also for an untied classifier.
func TestLlama2CVersion1RoundTrip(t *testing.T) {
	stories, err := LoadLlama2C(filepath.Join(ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	untied := RandomModel(Config{Dim: 32, HiddenDim: 40, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8,
		VocabSize: 30, SeqLen: 16, RopeTheta: 10000, NormEps: 1e-5}, 5)
	for _, m := range []*Model{stories, untied} {
		path := filepath.Join(t.TempDir(), "v1.bin")
		if err := SaveLlama2C(m, path); err != nil {
			t.Fatal(err)
		}
		back, err := LoadLlama2C(path)
		if err != nil {
			t.Fatal(err)
		}
		if back.Config != m.Config {
			t.Errorf("config %+v came back as %+v", m.Config, back.Config)
		}
		tokens := []int{1, 7, 3, 12, 9}
		a, _ := NewState(m, 5, 0).Forward(context.Background(), tokens, 0)
		b, _ := NewState(back, 5, 0).Forward(context.Background(), tokens, 0)
		if !slices.Equal(a, b) {
			t.Errorf("logits differ after a version-1 round trip (max diff %g)", maxAbsDiff(a, b))
		}
	}
}

func TestLlama2CBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(vals ...int32) []byte {
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b
	}
	v2 := append(header(llama2cMagic, 2, 64, 172, 5, 8, 4, 512, 512), make([]byte, 1000)...)
	for _, tc := range []struct {
		name     string
		data     []byte
		sentinel error
		want     string
	}{
		{"empty", nil, ErrBadModel, "too short"},
		{"truncated", good[:len(good)-100], ErrBadModel, "truncated"},
		{"extra bytes", append(slices.Clone(good), 0, 0, 0, 0), ErrBadModel, "truncated or not a llama2.c checkpoint"},
		{"quantized version 2", v2, ErrUnsupportedModel, "version 2"},
		{"text file", []byte(strings.Repeat("Once upon a time. ", 10)), ErrBadModel, "implausible header"},
		{"heads do not divide dim", append(header(60, 172, 5, 8, 4, 512, 512), make([]byte, 64)...), ErrBadModel, "do not fit"},
	} {
		path := filepath.Join(t.TempDir(), "m.bin")
		os.WriteFile(path, tc.data, 0o644)
		_, err := LoadLlama2C(path)
		if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %v mentioning %q", tc.name, err, tc.sentinel, tc.want)
		}
	}
}

func TestResolveModel(t *testing.T) {
	model, tok, err := ResolveModel("babyllama-tok105")
	if err != nil || filepath.Base(model) != "model5000.bin" || filepath.Base(tok) != "tok105.model" {
		t.Errorf("babyllama-tok105 resolved to %q, %q, %v", model, tok, err)
	}
	model, tok, err = ResolveModel(filepath.Join(ModelsDir(), "stories260K", "stories260K.bin"))
	if err != nil || filepath.Base(model) != "stories260K.bin" || filepath.Base(tok) != "tok512.bin" {
		t.Errorf("a checkpoint path resolved to %q, %q, %v", model, tok, err)
	}
	if _, _, err := ResolveModel("llama-9000"); !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), "stories260K") {
		t.Errorf("unknown name: err = %v, want ErrUnknownModel listing the available models", err)
	}
}
