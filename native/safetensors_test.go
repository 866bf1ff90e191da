package native

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rawTensor is a tensor given as its stored bytes, for hand-made files.
type rawTensor struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// writeRawSafetensors writes tensors (sorted by name, packed in that order)
// with a correctly computed header, and returns the path.
func writeRawSafetensors(t *testing.T, path string, tensors []rawTensor) string {
	t.Helper()
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].name < tensors[j].name })
	head := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, r := range tensors {
		head[r.name] = map[string]any{"dtype": r.dtype, "shape": r.shape, "data_offsets": []int{len(data), len(data) + len(r.data)}}
		data = append(data, r.data...)
	}
	h, err := json.Marshal(head)
	if err != nil {
		t.Fatal(err)
	}
	writeFileWithHeader(t, path, string(h), data)
	return path
}

// writeFileWithHeader writes the 8-byte length, header and data verbatim.
func writeFileWithHeader(t *testing.T, path, header string, data []byte) {
	t.Helper()
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(append(b, header...), data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func u16s(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func readTensor(t *testing.T, s *stFile, name string) []float32 {
	t.Helper()
	out := make([]float32, s.tensors[name].numElements())
	if err := s.readInto(name, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSafetensorsHalfPrecision(t *testing.T) {
	path := writeRawSafetensors(t, filepath.Join(t.TempDir(), "h.safetensors"), []rawTensor{
		{"half", "F16", []int{2, 5}, u16s(0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x8000, 0x7C00, 0xFC00, 0x7E00)},
		{"brain", "BF16", []int{5}, u16s(0x3F80, 0xC040, 0x0001, 0xFF80, 0x7FC0)},
		{"full", "F32", []int{2}, f32s(0.1, -7)},
	})
	s, err := openSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inf := float32(math.Inf(1))
	check := func(name string, want []float32) {
		t.Helper()
		got := readTensor(t, s, name)
		for i := range want {
			if got[i] != want[i] && !(math.IsNaN(float64(want[i])) && math.IsNaN(float64(got[i]))) {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], want[i])
			}
		}
	}
	check("half", []float32{1, -2, 5.9604645e-8, 6.097555e-5, 6.1035156e-5, 65504, 0, inf, -inf, float32(math.NaN())})
	if got := readTensor(t, s, "half")[6]; !math.Signbit(float64(got)) {
		t.Errorf("f16 0x8000 = %g, want -0", got)
	}
	check("brain", []float32{1, -3, 9.1835e-41, -inf, float32(math.NaN())})
	check("full", []float32{0.1, -7})
}

// TestF16AllPatterns checks every finite half against its defining formula.
func TestF16AllPatterns(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		exp, mant := h>>10&0x1f, float64(h&0x3ff)
		if exp == 0x1f {
			continue
		}
		want := math.Ldexp(mant, -24)
		if exp > 0 {
			want = math.Ldexp(1+mant/1024, exp-15)
		}
		if h>>15 != 0 {
			want = -want
		}
		if got := f16Table()[h]; float64(got) != want {
			t.Fatalf("f16 %#04x = %g, want %g", h, got, want)
		}
	}
}

func TestSafetensorsWriteRead(t *testing.T) {
	dir := t.TempDir()
	a := []float32{1, 1.00390625, 1.01171875, -2.5, bf16ToFloat32(0x0021), float32(math.Inf(-1))}
	b := []float32{0.5, 0.25, -0.125}
	out := []stOutTensor{
		{"zeta.weight", []int{2, 3}, func() []float32 { return a }},
		{"alpha", []int{3}, func() []float32 { return b }},
	}
	for _, dtype := range []string{"F32", "BF16"} {
		path := filepath.Join(dir, dtype+".safetensors")
		if err := writeSafetensors(path, out, map[string]string{"format": "pt"}, dtype); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(path)
		n := binary.LittleEndian.Uint64(raw)
		header := string(raw[8 : 8+n])
		if n%8 != 0 || !strings.HasPrefix(header, `{"__metadata__":{"format":"pt"},"alpha":`) {
			t.Errorf("%s: header of %d bytes %q: want a multiple of 8, metadata first, names sorted", dtype, n, header)
		}
		s, err := openSafetensors(path)
		if err != nil {
			t.Fatal(err)
		}
		if s.metadata["format"] != "pt" || s.tensors["zeta.weight"].Dtype != dtype || fmt.Sprint(s.tensors["zeta.weight"].Shape) != "[2 3]" {
			t.Errorf("%s: read back metadata %v, tensors %v", dtype, s.metadata, s.tensors)
		}
		wantA := a
		if dtype == "BF16" {
			// 1+2⁻⁸ and 1+3·2⁻⁸ are ties between bfloat16 neighbours and round
			// to the even one; a bfloat16 subnormal and -Inf are exact.
			wantA = []float32{1, 1, 1.015625, -2.5, a[4], a[5]}
		}
		if got := readTensor(t, s, "zeta.weight"); fmt.Sprint(got) != fmt.Sprint(wantA) {
			t.Errorf("%s: zeta.weight = %v, want %v", dtype, got, wantA)
		}
		if got := readTensor(t, s, "alpha"); fmt.Sprint(got) != fmt.Sprint(b) {
			t.Errorf("%s: alpha = %v, want %v", dtype, got, b)
		}
		s.Close()
	}
}

func TestSafetensorsBadInput(t *testing.T) {
	dir := t.TempDir()
	good := f32s(1, 2, 3, 4)
	entry := func(name, dtype, shape string, b, e int) string {
		return fmt.Sprintf(`%q:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, name, dtype, shape, b, e)
	}
	for _, tc := range []struct {
		name, header string
		data         []byte
		raw          []byte // the whole file, when set
		want         error
		substr       string
	}{
		{name: "tiny file", raw: []byte{1, 2, 3}, want: ErrBadModel, substr: "too short"},
		{name: "header past end", raw: binary.LittleEndian.AppendUint64(nil, 1000), want: ErrBadModel, substr: "past the end"},
		{name: "not json", header: "{nope", want: ErrBadModel, substr: "not valid JSON"},
		{name: "not an object", header: "[1, 2]", want: ErrBadModel, substr: "start with '{'"},
		{name: "truncated data", header: "{" + entry("w", "F32", "[4]", 0, 16) + "}", data: good[:12], want: ErrBadModel, substr: "outside the 12 data bytes"},
		{name: "shape disagrees", header: "{" + entry("w", "F32", "[3]", 0, 16) + "}", data: good, want: ErrBadModel, substr: "needs 12 bytes"},
		{name: "negative dim", header: "{" + entry("w", "F32", "[-4]", 0, 16) + "}", data: good, want: ErrBadModel, substr: "impossible shape"},
		{name: "overlap", header: "{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("b", "F32", "[2]", 8, 16) + "}", data: good, want: ErrBadModel, substr: "overlaps"},
		{name: "gap", header: "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[2]", 8, 16) + "}", data: good, want: ErrBadModel, substr: "gap of 4 bytes"},
		{name: "trailing garbage", header: "{" + entry("a", "F32", "[3]", 0, 12) + "}", data: good, want: ErrBadModel, substr: "cover 12 data bytes but the file holds 16"},
		{name: "bad metadata", header: `{"__metadata__":{"a":1}}`, want: ErrBadModel, substr: "__metadata__"},
		{name: "no dtype", header: `{"w":{"shape":[1],"data_offsets":[0,4]}}`, data: good[:4], want: ErrBadModel, substr: "lacks dtype"},
		{name: "unknown dtype", header: "{" + entry("w", "F4", "[8]", 0, 4) + "}", data: good[:4], want: ErrUnsupportedModel, substr: `"w" has dtype "F4"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.raw != nil {
				os.WriteFile(path, tc.raw, 0o644)
			} else {
				writeFileWithHeader(t, path, tc.header, tc.data)
			}
			s, err := openSafetensors(path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) || err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("got error %v, want %v containing %q", err, tc.want, tc.substr)
			}
		})
	}
}

// TestSafetensorsUnsupportedDtype: an I8 tensor is a valid file, but cannot
// be read as weights.
func TestSafetensorsUnsupportedDtype(t *testing.T) {
	path := writeRawSafetensors(t, filepath.Join(t.TempDir(), "q.safetensors"), []rawTensor{
		{"model.norm.weight", "I8", []int{4}, []byte{1, 2, 3, 4}},
	})
	s, err := openSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.readInto("model.norm.weight", make([]float32, 4))
	if !errors.Is(err, ErrUnsupportedModel) || !strings.Contains(err.Error(), `"model.norm.weight" has dtype I8`) {
		t.Errorf("got %v, want ErrUnsupportedModel naming the tensor and I8", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("q.safetensors")) {
		t.Errorf("error %q does not name the file", err)
	}
}
