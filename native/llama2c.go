package native

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// llama2c's version-1 export starts with this magic, "ak42" in ASCII.
const llama2cMagic = 0x616b3432

// LoadLlama2C reads a llama2.c checkpoint: the legacy format written by
// export.py's legacy_export (a 7-int header, then weights; a negative
// vocabulary size marks an untied output layer) or the float32 version-1
// format (256-byte header starting with the magic "ak42"). Quantized
// versions are rejected with ErrUnsupportedModel.
func LoadLlama2C(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open llama2.c checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	m, err := readLlama2C(bufio.NewReaderSize(f, 1<<20), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func readLlama2C(r io.Reader, size int64) (*Model, error) {
	var head [9]int32
	if size < 28 {
		return nil, fmt.Errorf("%w: file is %d bytes, too short for a llama2.c header; is it a checkpoint?", ErrBadModel, size)
	}
	if err := binary.Read(r, binary.LittleEndian, head[:7]); err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", ErrBadModel, err)
	}
	version, headerBytes, shared := 0, int64(28), false
	params := head[:7]
	if uint32(head[0]) == llama2cMagic {
		version = int(head[1])
		if version != 1 {
			return nil, fmt.Errorf("%w: llama2.c export version %d (only the float32 version 1 and the legacy format are supported; re-export with --version 1)",
				ErrUnsupportedModel, version)
		}
		if err := binary.Read(r, binary.LittleEndian, head[7:9]); err != nil {
			return nil, fmt.Errorf("%w: reading header: %v", ErrBadModel, err)
		}
		params = head[2:9]
		var flag [1]byte
		if _, err := io.ReadFull(r, flag[:]); err != nil {
			return nil, fmt.Errorf("%w: reading header: %v", ErrBadModel, err)
		}
		shared = flag[0] != 0
		headerBytes = 256
		if _, err := io.CopyN(io.Discard, r, headerBytes-37); err != nil {
			return nil, fmt.Errorf("%w: reading header: %v", ErrBadModel, err)
		}
	}
	c := Config{
		Dim: int(params[0]), HiddenDim: int(params[1]), NumLayers: int(params[2]),
		NumHeads: int(params[3]), NumKVHeads: int(params[4]), VocabSize: int(params[5]), SeqLen: int(params[6]),
		RopeTheta: 10000, NormEps: 1e-5,
	}
	if version == 0 {
		// The legacy format's sign bit on the vocabulary size says whether the
		// classifier is shared.
		shared = c.VocabSize > 0
		if c.VocabSize < 0 {
			c.VocabSize = -c.VocabSize
		}
	}
	c.SharedClassifier = shared
	if err := checkHeader(c); err != nil {
		return nil, err
	}
	c.HeadDim = c.Dim / c.NumHeads

	// The file size must match the header exactly: this catches truncated
	// files and files of another format before anything is allocated.
	L, D, H, V := int64(c.NumLayers), int64(c.Dim), int64(c.HiddenDim), int64(c.VocabSize)
	kv := int64(c.NumKVHeads * c.HeadDim)
	floats := V*D + L*(2*D+D*D+2*D*kv+D*D+3*D*H) + D
	if version == 0 {
		floats += int64(c.SeqLen) * int64(c.HeadDim) // freq_cis_real and freq_cis_imag, unused
	}
	if !shared {
		floats += V * D
	}
	if want := headerBytes + 4*floats; size != want {
		return nil, fmt.Errorf("%w: file is %d bytes but its header (dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d) needs %d; the file is truncated or not a llama2.c checkpoint",
			ErrBadModel, size, c.Dim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumKVHeads, c.VocabSize, c.SeqLen, want)
	}

	m := &Model{Config: c, Layers: make([]Layer, c.NumLayers)}
	for i := range m.Layers {
		m.Layers[i].NumHeads, m.Layers[i].NumKVHeads, m.Layers[i].HiddenDim = c.NumHeads, c.NumKVHeads, c.HiddenDim
	}
	rd := &floatReader{r: r}
	perLayer := func(n int, set func(l *Layer, w []float32)) {
		for i := range m.Layers {
			set(&m.Layers[i], rd.read(n))
		}
	}
	q, kvd := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	if version == 0 {
		m.Embedding = rd.read(c.VocabSize * c.Dim)
		perLayer(c.Dim, func(l *Layer, w []float32) { l.AttnNorm = w })
	} else {
		perLayer(c.Dim, func(l *Layer, w []float32) { l.AttnNorm = w })
		perLayer(c.Dim, func(l *Layer, w []float32) { l.MLPNorm = w })
		m.FinalNorm = rd.read(c.Dim)
		m.Embedding = rd.read(c.VocabSize * c.Dim)
	}
	perLayer(q*c.Dim, func(l *Layer, w []float32) { l.Wq = w })
	perLayer(kvd*c.Dim, func(l *Layer, w []float32) { l.Wk = w })
	perLayer(kvd*c.Dim, func(l *Layer, w []float32) { l.Wv = w })
	perLayer(c.Dim*q, func(l *Layer, w []float32) { l.Wo = w })
	if version == 0 {
		perLayer(c.Dim, func(l *Layer, w []float32) { l.MLPNorm = w })
	}
	perLayer(c.HiddenDim*c.Dim, func(l *Layer, w []float32) { l.Gate = w })
	perLayer(c.Dim*c.HiddenDim, func(l *Layer, w []float32) { l.Down = w })
	perLayer(c.HiddenDim*c.Dim, func(l *Layer, w []float32) { l.Up = w })
	if version == 0 {
		m.FinalNorm = rd.read(c.Dim)
		rd.read(c.SeqLen * c.HeadDim) // precomputed RoPE tables; we compute our own
	}
	if shared {
		m.Output = m.Embedding
	} else {
		m.Output = rd.read(c.VocabSize * c.Dim)
	}
	if rd.err != nil {
		return nil, fmt.Errorf("%w: reading weights: %v", ErrBadModel, rd.err)
	}
	return m, m.Validate()
}

// checkHeader rejects headers whose numbers cannot describe a Llama model,
// before they are used to size allocations.
func checkHeader(c Config) error {
	const maxSize = 1 << 20
	for _, v := range []int{c.Dim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumKVHeads, c.VocabSize, c.SeqLen} {
		if v <= 0 || v > maxSize {
			return fmt.Errorf("%w: implausible header (dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d); the file is not a llama2.c checkpoint or is corrupt",
				ErrBadModel, c.Dim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumKVHeads, c.VocabSize, c.SeqLen)
		}
	}
	if c.Dim%c.NumHeads != 0 || (c.Dim/c.NumHeads)%2 != 0 || c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("%w: dim %d, %d heads and %d kv heads do not fit (dim must split into even-sized heads, heads into kv groups)",
			ErrBadModel, c.Dim, c.NumHeads, c.NumKVHeads)
	}
	return nil
}

// floatReader reads little-endian float32 slices and remembers the first error.
type floatReader struct {
	r   io.Reader
	buf []byte
	err error
}

func (f *floatReader) read(n int) []float32 {
	out := make([]float32, n)
	if f.err != nil {
		return out
	}
	if cap(f.buf) < 4*n {
		f.buf = make([]byte, 4*n)
	}
	b := f.buf[:4*n]
	if _, err := io.ReadFull(f.r, b); err != nil {
		f.err = err
		return out
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// SaveLlama2C writes m in llama2.c's float32 version-1 format. Only models
// whose layers all have the config's sizes can be written (the format has no
// per-layer sizes); compensation biases are not representable either.
func SaveLlama2C(m *Model, path string) error {
	c := m.Config
	for i, l := range m.Layers {
		if l.NumHeads != c.NumHeads || l.NumKVHeads != c.NumKVHeads || l.HiddenDim != c.HiddenDim || l.AttnBias != nil || l.MLPBias != nil {
			return fmt.Errorf("%w: layer %d is pruned or has biases; llama2.c's format cannot store it, save as Hugging Face safetensors instead",
				ErrUnsupportedModel, i)
		}
	}
	if c.HeadDim*c.NumHeads != c.Dim {
		return fmt.Errorf("%w: head_dim %d x %d heads != dim %d; llama2.c's format cannot store it", ErrUnsupportedModel, c.HeadDim, c.NumHeads, c.Dim)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	head := []int32{llama2cMagic, 1, int32(c.Dim), int32(c.HiddenDim), int32(c.NumLayers), int32(c.NumHeads),
		int32(c.NumKVHeads), int32(c.VocabSize), int32(c.SeqLen)}
	binary.Write(w, binary.LittleEndian, head)
	pad := make([]byte, 256-36)
	if c.SharedClassifier {
		pad[0] = 1
	}
	w.Write(pad)
	put := func(s []float32) { binary.Write(w, binary.LittleEndian, s) }
	each := func(get func(l *Layer) []float32) {
		for i := range m.Layers {
			put(get(&m.Layers[i]))
		}
	}
	each(func(l *Layer) []float32 { return l.AttnNorm })
	each(func(l *Layer) []float32 { return l.MLPNorm })
	put(m.FinalNorm)
	put(m.Embedding)
	each(func(l *Layer) []float32 { return l.Wq })
	each(func(l *Layer) []float32 { return l.Wk })
	each(func(l *Layer) []float32 { return l.Wv })
	each(func(l *Layer) []float32 { return l.Wo })
	each(func(l *Layer) []float32 { return l.Gate })
	each(func(l *Layer) []float32 { return l.Down })
	each(func(l *Layer) []float32 { return l.Up })
	if !c.SharedClassifier {
		put(m.Output)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
