package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// inputChannels are the per-layer inputs: the kept fraction of head
// units, the kept fraction of MLP channels, and 1 for a dropped layer.
const inputChannels = 3

// Arch describes a predictor network. Both kinds read the per-layer
// inputs (kept head fraction, kept MLP fraction, dropped flag; each
// standardised) and the global ratio, and output standardised
// log-perplexity.
//
// "cnn": convolutions over the layer axis (kernel Kernel, zero padding,
// ReLU), the first with a learned per-layer bias (a layer embedding, so
// the network knows which layer is which), then the mean over layers,
// the ratio appended, and dense ReLU layers of widths Hidden down to one
// output. "mlp": the inputs of all layers and the ratio, flattened,
// through dense ReLU layers of widths Hidden down to one output.
type Arch struct {
	Kind     string `json:"kind"`               // "cnn" or "mlp"
	Channels []int  `json:"channels,omitempty"` // cnn: output channels of each convolution
	Kernel   int    `json:"kernel,omitempty"`   // cnn: odd kernel width, in layers
	Hidden   []int  `json:"hidden"`             // widths of the dense hidden layers
}

// CNNArch is a convolutional network of two convolutions of the given
// (odd) kernel width with 16 and 8 channels, then a dense layer of 32.
// The default is CNNArch(1); see the package comment for why.
func CNNArch(kernel int) Arch {
	return Arch{Kind: "cnn", Channels: []int{16, 8}, Kernel: kernel, Hidden: []int{32}}
}

// MLPArch is the default plain network: dense layers of 64 and 32.
func MLPArch() Arch { return Arch{Kind: "mlp", Hidden: []int{64, 32}} }

// ArchNames are the names ArchNamed knows, the default first.
var ArchNames = []string{"cnn", "cnn3", "mlp"}

// ArchNamed returns the network of a name: "cnn" (CNNArch(1), the
// default), "cnn3" (CNNArch(3)) or "mlp" (MLPArch()).
func ArchNamed(name string) (Arch, error) {
	switch name {
	case "cnn":
		return CNNArch(1), nil
	case "cnn3":
		return CNNArch(3), nil
	case "mlp":
		return MLPArch(), nil
	}
	return Arch{}, fmt.Errorf("predictor network %q: use cnn, cnn3 or mlp", name)
}

// Bounds on a predictor network, checked before anything is allocated,
// so that a damaged or hostile file cannot ask for terabytes: every
// width, channel count and the kernel at most MaxDim, at most MaxDepth
// convolutions and as many dense layers, and at most MaxParams
// parameters in all.
const (
	MaxDim    = 1 << 16
	MaxDepth  = 64
	MaxParams = 1 << 24
)

func (a Arch) check() error {
	dims := func(field string, ds []int) error {
		if len(ds) > MaxDepth {
			return fmt.Errorf("%s has %d entries, at most %d are allowed", field, len(ds), MaxDepth)
		}
		for i, d := range ds {
			if d < 1 || d > MaxDim {
				return fmt.Errorf("%s[%d] is %d: widths must be from 1 to %d", field, i, d, MaxDim)
			}
		}
		return nil
	}
	switch a.Kind {
	case "cnn":
		if len(a.Channels) == 0 || a.Kernel < 1 || a.Kernel%2 == 0 || a.Kernel > MaxDim {
			return fmt.Errorf("cnn architecture %+v needs at least one convolution and an odd kernel width (arch.kernel) up to %d; start from CNNArch()", a, MaxDim)
		}
		if err := dims("arch.channels", a.Channels); err != nil {
			return fmt.Errorf("cnn architecture: %w", err)
		}
	case "mlp":
		if len(a.Channels) != 0 {
			return fmt.Errorf("mlp architecture %+v has convolution channels; leave Channels empty or use kind \"cnn\"", a)
		}
	default:
		return fmt.Errorf("architecture kind %q: want \"cnn\" or \"mlp\"", a.Kind)
	}
	if err := dims("arch.hidden", a.Hidden); err != nil {
		return fmt.Errorf("%s architecture: %w", a.Kind, err)
	}
	return nil
}

// plan lays out the tensors of arch over L layers: their names, shapes
// and the parameter count, refusing more than MaxParams. It allocates
// nothing of the network's size.
func (a Arch) plan(L int) (names []string, shapes [][]int, size int, err error) {
	if err := a.check(); err != nil {
		return nil, nil, 0, err
	}
	if L < 1 || L > MaxDim {
		return nil, nil, 0, fmt.Errorf("%d layers: want 1 to %d", L, MaxDim)
	}
	add := func(name string, shape ...int) {
		k := 1
		for _, d := range shape {
			if k > MaxParams/d {
				k = MaxParams + 1
				break
			}
			k *= d
		}
		names, shapes = append(names, name), append(shapes, shape)
		size = min(size+k, MaxParams+1)
	}
	in := inputChannels
	for i, c := range a.Channels {
		add(fmt.Sprintf("conv%d.w", i), a.Kernel, in, c)
		add(fmt.Sprintf("conv%d.b", i), c)
		if i == 0 {
			add("embed", L, c)
		}
		in = c
	}
	if a.Kind == "mlp" {
		in = L * inputChannels
	}
	in++ // the ratio
	for i, h := range append(append([]int{}, a.Hidden...), 1) {
		add(fmt.Sprintf("dense%d.w", i), in, h)
		add(fmt.Sprintf("dense%d.b", i), h)
		in = h
	}
	if size > MaxParams {
		return nil, nil, 0, fmt.Errorf("%s architecture (arch.channels %v, arch.hidden %v) over %d layers has more than %d parameters; use smaller widths",
			a.Kind, a.Channels, a.Hidden, L, MaxParams)
	}
	return names, shapes, size, nil
}

// Tensor is one named weight array of a saved network, row-major.
type Tensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type conv struct {
	cin, cout, k int
	w, b         []float64 // w (k, cin, cout): an input window (k, cin) is contiguous, and so is the row of weights each of its values feeds
}

type dense struct {
	in, out int
	w, b    []float64 // w (in, out)
}

// views are the network's tensors as slices of one flat vector: the
// parameters, or their gradients.
type views struct {
	convs []conv
	emb   []float64 // (L, Channels[0]): the first convolution's per-layer bias; cnn only
	dense []dense
}

// net is a predictor network: its shape and its parameters.
type net struct {
	arch   Arch
	L      int
	names  []string // tensor names, in the order of params
	shapes [][]int
	params []float64
	v      views
}

func newNet(arch Arch, L int) (*net, error) {
	names, shapes, size, err := arch.plan(L)
	if err != nil {
		return nil, err
	}
	n := &net{arch: arch, L: L, names: names, shapes: shapes}
	n.params = make([]float64, size)
	n.v = n.layout(n.params)
	return n, nil
}

// layout cuts buf (the size of params) into the network's tensors.
func (n *net) layout(buf []float64) views {
	var v views
	off := 0
	take := func(k int) []float64 {
		s := buf[off : off+k : off+k]
		off += k
		return s
	}
	in := inputChannels
	for i, c := range n.arch.Channels {
		cv := conv{cin: in, cout: c, k: n.arch.Kernel}
		cv.w, cv.b = take(c*n.arch.Kernel*in), take(c)
		if i == 0 {
			v.emb = take(n.L * c)
		}
		v.convs = append(v.convs, cv)
		in = c
	}
	if n.arch.Kind == "mlp" {
		in = n.L * inputChannels
	}
	in++
	for _, h := range append(append([]int{}, n.arch.Hidden...), 1) {
		d := dense{in: in, out: h}
		d.w, d.b = take(h*in), take(h)
		v.dense = append(v.dense, d)
		in = h
	}
	return v
}

// init draws He-normal weights (the output layer: 1/fan-in variance),
// zero biases and layer embeddings.
func (n *net) init(rng *rand.Rand) {
	clear(n.params)
	for _, c := range n.v.convs {
		std := math.Sqrt(2 / float64(c.k*c.cin))
		for i := range c.w {
			c.w[i] = std * rng.NormFloat64()
		}
	}
	for i, d := range n.v.dense {
		gain := 2.0
		if i == len(n.v.dense)-1 {
			gain = 1
		}
		std := math.Sqrt(gain / float64(d.in))
		for k := range d.w {
			d.w[k] = std * rng.NormFloat64()
		}
	}
}

func (n *net) tensors() []Tensor {
	out := make([]Tensor, len(n.names))
	off := 0
	for i, name := range n.names {
		k := 1
		for _, d := range n.shapes[i] {
			k *= d
		}
		out[i] = Tensor{Name: name, Shape: n.shapes[i], Data: append([]float64(nil), n.params[off:off+k]...)}
		off += k
	}
	return out
}

func (n *net) setTensors(ts []Tensor) error {
	if len(ts) != len(n.names) {
		return fmt.Errorf("%d weight tensors, the architecture has %d; the file is damaged or from another version", len(ts), len(n.names))
	}
	off := 0
	for i, t := range ts {
		k := 1
		for _, d := range n.shapes[i] {
			k *= d
		}
		if t.Name != n.names[i] || len(t.Data) != k || fmt.Sprint(t.Shape) != fmt.Sprint(n.shapes[i]) {
			return fmt.Errorf("weight tensor %d is %q %v with %d values, the architecture wants %q %v; the file is damaged or from another version",
				i, t.Name, t.Shape, len(t.Data), n.names[i], n.shapes[i])
		}
		for _, x := range t.Data {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("weight tensor %q holds %v; the file is damaged, retrain the predictor", t.Name, x)
			}
		}
		copy(n.params[off:], t.Data)
		off += k
	}
	return nil
}

// work holds one forward (and backward) pass's activations; the forward
// pass allocates nothing.
type work struct {
	pad   int
	x     []float64   // (L+2·pad, 3) standardised inputs, zero-padded; mlp: (L·3 + 1)
	acts  [][]float64 // cnn: (L+2·pad, Channels[i]) after ReLU, zero-padded
	hid   [][]float64 // dense inputs: hid[0] is the pooled features + ratio (cnn) or x (mlp); hid[i] after ReLU
	last  [1]float64  // the output
	dacts [][]float64 // gradients, same shapes
	dhid  [][]float64
}

func (n *net) newWork() *work {
	w := &work{pad: n.arch.Kernel / 2}
	P := n.L + 2*w.pad
	if n.arch.Kind == "cnn" {
		w.x = make([]float64, P*inputChannels)
		for _, c := range n.v.convs {
			w.acts = append(w.acts, make([]float64, P*c.cout))
			w.dacts = append(w.dacts, make([]float64, P*c.cout))
		}
	}
	for _, d := range n.v.dense {
		w.hid = append(w.hid, make([]float64, d.in))
		w.dhid = append(w.dhid, make([]float64, d.in))
	}
	return w
}

// input returns where the standardised per-layer inputs go, (L, 3)
// row-major; the ratio goes through setRatio.
func (n *net) input(w *work) []float64 {
	if n.arch.Kind == "cnn" {
		return w.x[w.pad*inputChannels : (w.pad+n.L)*inputChannels]
	}
	return w.hid[0][:n.L*inputChannels]
}

func (n *net) setRatio(w *work, r float64) { h := w.hid[0]; h[len(h)-1] = r }

// forward computes the standardised prediction from the inputs in place.
// Each layer starts its outputs at the biases and adds each input's row
// of weights; inputs that are zero (ReLU's) are skipped. Most of the time
// goes to these row updates.
func (n *net) forward(w *work) float64 {
	if n.arch.Kind == "cnn" {
		in, cin := w.x, inputChannels
		for i, c := range n.v.convs {
			out := w.acts[i]
			span := c.k * cin
			for l := range n.L {
				win := in[l*cin : l*cin+span]
				o := out[(l+w.pad)*c.cout : (l+w.pad+1)*c.cout]
				copy(o, c.b)
				if i == 0 {
					axpy(1, n.v.emb[l*c.cout:(l+1)*c.cout], o)
				}
				for t, v := range win {
					if v != 0 {
						axpy(v, c.w[t*c.cout:(t+1)*c.cout], o)
					}
				}
				for oc, v := range o {
					o[oc] = max(v, 0)
				}
			}
			in, cin = out, c.cout
		}
		// Mean over layers; the ratio is already in the last slot.
		pooled := w.hid[0][:cin]
		clear(pooled)
		for l := range n.L {
			axpy(1, in[(l+w.pad)*cin:(l+w.pad+1)*cin], pooled)
		}
		inv := 1 / float64(n.L)
		for c := range pooled {
			pooled[c] *= inv
		}
	}
	for i, d := range n.v.dense {
		in := w.hid[i]
		var o []float64
		if i+1 < len(w.hid) {
			o = w.hid[i+1]
		} else {
			o = w.last[:]
		}
		copy(o, d.b)
		for k, v := range in {
			if v != 0 {
				axpy(v, d.w[k*d.out:(k+1)*d.out], o)
			}
		}
		if i+1 < len(w.hid) {
			for k, v := range o {
				o[k] = max(v, 0)
			}
		}
	}
	return w.last[0]
}

// backward adds to g the gradient of dy·output, after forward on w.
func (n *net) backward(w *work, g views, dy float64) {
	dnext := []float64{dy}
	for i := len(n.v.dense) - 1; i >= 0; i-- {
		d, gd := n.v.dense[i], g.dense[i]
		in, din := w.hid[i], w.dhid[i]
		axpy(1, dnext, gd.b)
		for k, v := range in {
			if v != 0 {
				axpy(v, dnext, gd.w[k*d.out:(k+1)*d.out])
			}
			din[k] = 0
			if i == 0 || v > 0 { // through the ReLU that made in (none for the first layer's inputs)
				din[k] = dot(d.w[k*d.out:(k+1)*d.out], dnext)
			}
		}
		dnext = din
	}
	if n.arch.Kind != "cnn" {
		return
	}
	last := len(n.v.convs) - 1
	C := n.v.convs[last].cout
	dout := w.dacts[last]
	inv := 1 / float64(n.L)
	for l := range n.L {
		row := dout[(l+w.pad)*C : (l+w.pad+1)*C]
		act := w.acts[last][(l+w.pad)*C : (l+w.pad+1)*C]
		for c := range row {
			row[c] = 0
			if act[c] > 0 {
				row[c] = dnext[c] * inv
			}
		}
	}
	for i := last; i >= 0; i-- {
		c, gc := n.v.convs[i], g.convs[i]
		in := w.x
		var din []float64
		if i > 0 {
			in, din = w.acts[i-1], w.dacts[i-1]
			clear(din)
		}
		span := c.k * c.cin
		dout := w.dacts[i]
		for l := range n.L {
			win := in[l*c.cin : l*c.cin+span]
			row := dout[(l+w.pad)*c.cout : (l+w.pad+1)*c.cout]
			axpy(1, row, gc.b)
			if i == 0 {
				axpy(1, row, g.emb[l*c.cout:(l+1)*c.cout])
			}
			for t, v := range win {
				if v != 0 {
					axpy(v, row, gc.w[t*c.cout:(t+1)*c.cout])
				}
				if din != nil {
					din[l*c.cin+t] += dot(c.w[t*c.cout:(t+1)*c.cout], row)
				}
			}
		}
		if din != nil { // through the previous ReLU; padding has zero activations
			for k, v := range in {
				if v <= 0 {
					din[k] = 0
				}
			}
		}
	}
}

// dot returns Σ a[i]·b[i] over len(a), with four accumulators.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds alpha·x to y over len(x), four at a time.
func axpy(alpha float64, x, y []float64) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}
