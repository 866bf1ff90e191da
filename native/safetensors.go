package native

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// This file reads and writes the safetensors format
// (github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON header, then the data. The header maps each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, offsets
// relative to the start of the data; the optional "__metadata__" entry maps
// strings to strings. Tensors are little-endian and row-major.

// maxSafetensorsHeader bounds the JSON header, as the reference
// implementation does (100 MB), so a corrupt length cannot exhaust memory.
const maxSafetensorsHeader = 100 << 20

// safetensorsDtypeBytes gives the element size of every dtype the format
// defines with a whole number of bytes per element. Only F32, F16 and BF16
// can be read as weights; the others are known so that their offsets can be
// checked and their use reported as unsupported.
var safetensorsDtypeBytes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// stTensor is one entry of a safetensors header.
type stTensor struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// numElements is the product of the shape (1 for a scalar).
func (t stTensor) numElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// stFile is an open safetensors file whose header has been checked.
// Tensors are read one at a time with ReadAt, never the whole file.
type stFile struct {
	path      string
	f         *os.File
	dataStart int64
	tensors   map[string]stTensor
	metadata  map[string]string
}

// openSafetensors opens path and validates its header: the length fits in
// the file, every entry has a known dtype, non-negative shape and offsets
// matching dtype size × elements, and the tensors tile the data exactly
// (no overlaps, no gaps, nothing after the last one). Errors wrap
// ErrBadModel, or ErrUnsupportedModel for a dtype of unknown size.
func openSafetensors(path string) (*stFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	s, err := readSafetensorsHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func readSafetensorsHeader(f *os.File, path string) (*stFile, error) {
	name := filepath.Base(path)
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("%w: %s is %d bytes, too short for a safetensors header", ErrBadModel, name, size)
	}
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%w: %s: reading header length: %v", ErrBadModel, name, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, fmt.Errorf("%w: %s: header length %d runs past the end of the %d-byte file; the file is truncated or not safetensors",
			ErrBadModel, name, n, size)
	}
	if n > maxSafetensorsHeader {
		return nil, fmt.Errorf("%w: %s: header length %d exceeds the format's limit of %d bytes", ErrBadModel, name, n, maxSafetensorsHeader)
	}
	head := make([]byte, n)
	if _, err := f.ReadAt(head, 8); err != nil {
		return nil, fmt.Errorf("%w: %s: reading header: %v", ErrBadModel, name, err)
	}
	if !bytes.HasPrefix(head, []byte("{")) {
		return nil, fmt.Errorf("%w: %s: header does not start with '{'; the file is not safetensors", ErrBadModel, name)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(head, &raw); err != nil {
		return nil, fmt.Errorf("%w: %s: header is not valid JSON: %v", ErrBadModel, name, err)
	}
	s := &stFile{path: path, f: f, dataStart: 8 + int64(n), tensors: make(map[string]stTensor, len(raw))}
	dataLen := size - s.dataStart
	for key, msg := range raw {
		if key == "__metadata__" {
			if err := json.Unmarshal(msg, &s.metadata); err != nil {
				return nil, fmt.Errorf("%w: %s: __metadata__ must map strings to strings: %v", ErrBadModel, name, err)
			}
			continue
		}
		var t stTensor
		if err := json.Unmarshal(msg, &t); err != nil {
			return nil, fmt.Errorf("%w: %s: tensor %q: bad header entry: %v", ErrBadModel, name, key, err)
		}
		if t.Dtype == "" || t.Shape == nil {
			return nil, fmt.Errorf("%w: %s: tensor %q lacks dtype or shape", ErrBadModel, name, key)
		}
		elem, ok := safetensorsDtypeBytes[t.Dtype]
		if !ok {
			return nil, fmt.Errorf("%w: %s: tensor %q has dtype %q, which this reader does not know",
				ErrUnsupportedModel, name, key, t.Dtype)
		}
		count := int64(1)
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt64/8/int64(d)) {
				return nil, fmt.Errorf("%w: %s: tensor %q has impossible shape %v", ErrBadModel, name, key, t.Shape)
			}
			count *= int64(d)
		}
		b, e := t.Offsets[0], t.Offsets[1]
		if b < 0 || e < b || e > dataLen {
			return nil, fmt.Errorf("%w: %s: tensor %q has data offsets [%d, %d] outside the %d data bytes; the file is truncated or corrupt",
				ErrBadModel, name, key, b, e, dataLen)
		}
		if e-b != count*int64(elem) {
			return nil, fmt.Errorf("%w: %s: tensor %q: %s %v needs %d bytes but its offsets [%d, %d] span %d",
				ErrBadModel, name, key, t.Dtype, t.Shape, count*int64(elem), b, e, e-b)
		}
		s.tensors[key] = t
	}

	// The tensors must tile the data: sorted by offset, each starts where
	// the previous ends, and the last ends at the end of the file.
	names := make([]string, 0, len(s.tensors))
	for k := range s.tensors {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.tensors[names[i]].Offsets, s.tensors[names[j]].Offsets
		return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
	})
	var end int64
	for _, k := range names {
		t := s.tensors[k]
		if t.Offsets[0] != end {
			what := "overlaps the previous tensor"
			if t.Offsets[0] > end {
				what = fmt.Sprintf("leaves a gap of %d bytes after the previous tensor", t.Offsets[0]-end)
			}
			return nil, fmt.Errorf("%w: %s: tensor %q at offsets [%d, %d] %s", ErrBadModel, name, k, t.Offsets[0], t.Offsets[1], what)
		}
		end = t.Offsets[1]
	}
	if end != dataLen {
		return nil, fmt.Errorf("%w: %s: tensors cover %d data bytes but the file holds %d", ErrBadModel, name, end, dataLen)
	}
	return s, nil
}

// dataBytes is the number of tensor data bytes, which the header check
// makes the bytes from the end of the header to the end of the file.
func (s *stFile) dataBytes() int64 {
	var n int64
	for _, t := range s.tensors {
		n += t.Offsets[1] - t.Offsets[0]
	}
	return n
}

// Close closes the file.
func (s *stFile) Close() error { return s.f.Close() }

// checkReadable reports whether tensor name can be read as float32: it
// wraps ErrUnsupportedModel for a dtype other than F32, F16 and BF16.
func (s *stFile) checkReadable(name string) error {
	t := s.tensors[name]
	switch t.Dtype {
	case "F32", "F16", "BF16":
		return nil
	}
	return fmt.Errorf("%w: %s: tensor %q has dtype %s; only F32, F16 and BF16 weights can be loaded (dequantize the checkpoint first)",
		ErrUnsupportedModel, filepath.Base(s.path), name, t.Dtype)
}

// readInto reads tensor name, converted to float32, into dst, whose length
// must be the tensor's number of elements. It reads in chunks of a few
// megabytes, so a tensor costs no more memory than its float32 result.
func (s *stFile) readInto(name string, dst []float32) error {
	t, ok := s.tensors[name]
	if !ok {
		return fmt.Errorf("%w: %s has no tensor %q", ErrBadModel, filepath.Base(s.path), name)
	}
	if err := s.checkReadable(name); err != nil {
		return err
	}
	if int64(len(dst)) != t.numElements() {
		panic(fmt.Sprintf("native: readInto %q: %d destination values for shape %v", name, len(dst), t.Shape))
	}
	elem := safetensorsDtypeBytes[t.Dtype]
	const chunkElems = 1 << 20
	buf := make([]byte, min(len(dst), chunkElems)*elem)
	off := s.dataStart + t.Offsets[0]
	for lo := 0; lo < len(dst); lo += chunkElems {
		out := dst[lo:min(lo+chunkElems, len(dst))]
		b := buf[:len(out)*elem]
		if _, err := s.f.ReadAt(b, off+int64(lo*elem)); err != nil {
			return fmt.Errorf("%w: %s: reading tensor %q: %v", ErrBadModel, filepath.Base(s.path), name, err)
		}
		switch t.Dtype {
		case "F32":
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case "F16":
			table := f16Table()
			for i := range out {
				out[i] = table[binary.LittleEndian.Uint16(b[2*i:])]
			}
		case "BF16":
			for i := range out {
				out[i] = bf16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	}
	return nil
}

// f16Table returns the float32 value of every IEEE half-precision bit
// pattern, built once.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for h := range t {
		t[h] = f16ToFloat32(uint16(h))
	}
	return &t
})

// f16ToFloat32 converts IEEE 754 half precision (1 sign, 5 exponent, 10
// mantissa bits) exactly, including subnormals, infinities and NaNs.
func f16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: mant × 2⁻²⁴
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1f: // infinity or NaN, keeping the NaN payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bf16ToFloat32 converts bfloat16, which is the high half of a float32.
func bf16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// float32ToBF16 rounds to the nearest bfloat16, ties to even, as PyTorch
// does; NaNs stay NaNs.
func float32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40 // quiet NaN
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// stOutTensor is a tensor to write. Data is called once, when the tensor's
// turn comes, so that a writer can produce a transformed copy (such as a
// permuted matrix) without holding all of them at once.
type stOutTensor struct {
	Name  string
	Shape []int
	Data  func() []float32
}

// writeSafetensors writes tensors to path as dtype "F32" or "BF16", the
// way the reference implementation does: entries sorted by name, the
// "__metadata__" entry first, and the JSON header padded with spaces to a
// multiple of 8 bytes so that the data is aligned. The file is written
// under a temporary name and renamed into place when complete.
func writeSafetensors(path string, tensors []stOutTensor, metadata map[string]string, dtype string) error {
	elem, ok := map[string]int{"F32": 4, "BF16": 2}[dtype]
	if !ok {
		return fmt.Errorf("%w: cannot write safetensors dtype %q (F32 or BF16)", ErrUnsupportedModel, dtype)
	}
	tensors = append([]stOutTensor(nil), tensors...)
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].Name < tensors[j].Name })

	var head bytes.Buffer
	head.WriteByte('{')
	if len(metadata) > 0 {
		md, err := json.Marshal(metadata)
		if err != nil {
			return err
		}
		head.WriteString(`"__metadata__":`)
		head.Write(md)
	}
	var off int64
	for i, t := range tensors {
		if i > 0 && t.Name == tensors[i-1].Name {
			panic("native: writeSafetensors: duplicate tensor " + t.Name)
		}
		n := int64(elem)
		for _, d := range t.Shape {
			n *= int64(d)
		}
		if head.Len() > 1 {
			head.WriteByte(',')
		}
		key, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(t.Shape)
		fmt.Fprintf(&head, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, key, dtype, shape, off, off+n)
		off += n
	}
	head.WriteByte('}')
	for head.Len()%8 != 0 {
		head.WriteByte(' ')
	}

	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(head.Len()))
	w.Write(lenBuf[:])
	w.Write(head.Bytes())
	const chunk = 1 << 16
	buf := make([]byte, chunk*elem)
	for _, t := range tensors {
		data := t.Data()
		want := 1
		for _, d := range t.Shape {
			want *= d
		}
		if len(data) != want {
			panic(fmt.Sprintf("native: writeSafetensors: tensor %s has %d values for shape %v", t.Name, len(data), t.Shape))
		}
		for lo := 0; lo < len(data); lo += chunk {
			part := data[lo:min(lo+chunk, len(data))]
			if dtype == "F32" {
				for i, v := range part {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
			} else {
				for i, v := range part {
					binary.LittleEndian.PutUint16(buf[2*i:], float32ToBF16(v))
				}
			}
			w.Write(buf[:len(part)*elem])
		}
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("write %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
