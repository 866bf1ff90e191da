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
		return nil, fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: the file is %d bytes, too short for a llama2.c header", ErrBadModel, size)
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
	// files and files of another format before anything is allocated. The
	// sum is computed without overflow: a crafted header can describe more
	// bytes than an int64 holds, and a wrapped sum could equal the file size.
	L, D, H, V := int64(c.NumLayers), int64(c.Dim), int64(c.HiddenDim), int64(c.VocabSize)
	kv := int64(c.NumKVHeads) * int64(c.HeadDim)
	var bytes byteCount
	bytes.add(headerBytes)
	bytes.add(4, V, D) // embedding
	bytes.add(4, L, 2, D)
	bytes.add(4, L, 2, D, D)  // wq, wo
	bytes.add(4, L, 2, D, kv) // wk, wv
	bytes.add(4, L, 3, D, H)  // w1, w2, w3
	bytes.add(4, D)
	if version == 0 {
		bytes.add(4, int64(c.SeqLen), int64(c.HeadDim)) // freq_cis_real and freq_cis_imag, unused
	}
	if !shared {
		bytes.add(4, V, D)
	}
	want, ok := bytes.value()
	if !ok {
		return nil, fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: its header (%s) describes more weight bytes than a file can hold (the size overflows 64 bits), while the file is %d bytes; check that the path names a llama2.c .bin checkpoint",
			ErrBadModel, describeLlama2CHeader(c), size)
	}
	if size != want {
		return nil, fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: the file is %d bytes but its header (%s) needs %d; the file is truncated or not a llama2.c checkpoint (re-download or re-export it)",
			ErrBadModel, size, describeLlama2CHeader(c), want)
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

// Limits on llama2.c header fields. They are far above any real model and
// keep the size arithmetic small; the file size check does the rest.
const (
	maxLlama2CDim    = 1 << 20
	maxLlama2CHidden = 1 << 22
	maxLlama2CLayers = 1 << 20
	maxLlama2CHeads  = 1 << 16
	maxLlama2CVocab  = 1 << 24
	maxLlama2CSeqLen = 1 << 24
)

func describeLlama2CHeader(c Config) string {
	return fmt.Sprintf("dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d",
		c.Dim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumKVHeads, c.VocabSize, c.SeqLen)
}

// checkHeader rejects headers whose numbers cannot describe a Llama model,
// before they are used to size allocations.
func checkHeader(c Config) error {
	for _, f := range []struct {
		name     string
		v, limit int
	}{
		{"dim", c.Dim, maxLlama2CDim}, {"hidden", c.HiddenDim, maxLlama2CHidden}, {"layers", c.NumLayers, maxLlama2CLayers},
		{"heads", c.NumHeads, maxLlama2CHeads}, {"kv heads", c.NumKVHeads, maxLlama2CHeads},
		{"vocab", c.VocabSize, maxLlama2CVocab}, {"seq_len", c.SeqLen, maxLlama2CSeqLen},
	} {
		if f.v <= 0 || f.v > f.limit {
			return fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: implausible header (%s): %s is %d, it must be positive and at most the limit %d",
				ErrBadModel, describeLlama2CHeader(c), f.name, f.v, f.limit)
		}
	}
	switch {
	case c.Dim%c.NumHeads != 0 || (c.Dim/c.NumHeads)%2 != 0:
		return fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: dim %d and %d heads do not fit (dim must split into heads of an even size)",
			ErrBadModel, c.Dim, c.NumHeads)
	case c.NumHeads%c.NumKVHeads != 0:
		return fmt.Errorf("%w: not a llama2.c checkpoint, or a damaged one: %d heads and %d kv heads do not fit (heads must split into kv groups)",
			ErrBadModel, c.NumHeads, c.NumKVHeads)
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
