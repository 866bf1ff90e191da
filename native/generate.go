package native

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Tokenizer is what generation needs of a tokenizer; the tokenizers of
// package native/tokenizer satisfy it.
type Tokenizer interface {
	Encode(text string, bos bool) []int
	Piece(prev, id int) string // text of id when it follows prev
	VocabSize() int
	BOS() int // -1 when the vocabulary has none
	EOS() int
}

// Sampler picks the next token from logits: the most likely one at
// temperature 0, otherwise a draw from softmax(logits/temperature) limited
// to the smallest set of tokens whose probability reaches TopP.
type Sampler struct {
	Temperature float64
	TopP        float64 // in (0, 1]; 1 or 0 disables nucleus sampling
	rng         *rand.Rand
	probs       []float64
	order       []int
}

// NewSampler returns a sampler whose draws are fixed by seed.
func NewSampler(temperature, topP float64, seed uint64) (*Sampler, error) {
	if temperature < 0 || math.IsNaN(temperature) {
		return nil, fmt.Errorf("temperature %v: must be 0 (greedy) or positive", temperature)
	}
	if topP < 0 || topP > 1 || math.IsNaN(topP) {
		return nil, fmt.Errorf("top-p %v: must be in (0, 1]", topP)
	}
	return &Sampler{Temperature: temperature, TopP: topP, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Sample returns the chosen token id.
func (s *Sampler) Sample(logits []float32) int {
	if s.Temperature == 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return best
	}
	probs := s.softmax(logits)
	r := s.rng.Float64()
	if s.TopP <= 0 || s.TopP >= 1 {
		for i, p := range probs {
			if r -= p; r < 0 {
				return i
			}
		}
		return len(probs) - 1
	}
	return drawNucleus(probs, s.nucleus(probs), s.TopP, r)
}

// softmax returns softmax(logits/Temperature) in float64, in s.probs.
func (s *Sampler) softmax(logits []float32) []float64 {
	if cap(s.probs) < len(logits) {
		s.probs, s.order = make([]float64, len(logits)), make([]int, len(logits))
	}
	probs := s.probs[:len(logits)]
	maxVal := logits[0]
	for _, v := range logits {
		maxVal = max(maxVal, v)
	}
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v-maxVal) / s.Temperature)
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	return probs
}

// drawNucleus draws, with r uniform in [0, 1), from the tokens of order
// (most likely first) up to the first at which their mass reaches topP.
func drawNucleus(probs []float64, order []int, topP, r float64) int {
	var mass float64
	last := len(order) - 1
	for i, id := range order {
		if mass += probs[id]; mass >= topP {
			last = i
			break
		}
	}
	r *= mass
	for _, id := range order[:last+1] {
		if r -= probs[id]; r < 0 {
			return id
		}
	}
	return order[last]
}

// nucleus returns the tokens that can be in the nucleus, most likely first
// (equal ones by id). Only those are sorted, not the whole vocabulary, as
// llama2.c does: a token less likely than (1-TopP)/(n-1) is never needed,
// since the tokens before it would then hold less than TopP and it and
// the n-1 at most after it less than 1-TopP, short of the total of 1.
// Should rounding leave the candidates' mass short of TopP, the nucleus is
// all of them.
func (s *Sampler) nucleus(probs []float64) []int {
	cutoff := (1 - s.TopP) / float64(len(probs)-1)
	order := s.order[:0]
	for i, p := range probs {
		if p >= cutoff {
			order = append(order, i)
		}
	}
	if len(order) == 0 { // TopP below 1/n: none is that likely, all are candidates
		for i := range probs {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(probs[b], probs[a]); c != 0 {
			return c
		}
		return a - b
	})
	return order
}

// Generate runs the model from prompt (BOS first) as llama2.c's generate
// does: steps is the number of forward passes, so a prompt of p tokens
// (BOS included) yields up to steps-p+1 new tokens, and generation stops
// early at BOS or EOS. steps <= 0 means the model's whole context. Each new
// token's text is passed to emit as soon as it is chosen; the generated ids
// are returned.
func Generate(ctx context.Context, m *Model, tok Tokenizer, prompt string, steps int, sampler *Sampler, emit func(piece string)) ([]int, error) {
	ids, _, err := GenerateTimed(ctx, m, tok, prompt, steps, sampler, emit)
	return ids, err
}

// GenerateStats is where generation's time went, split as llama.cpp and
// llama2.c report it: the prompt, run in one forward pass, and the tokens
// decoded one forward pass each after it.
type GenerateStats struct {
	PromptTokens int           // BOS included
	PromptTime   time.Duration // the prompt's forward pass
	Tokens       int           // forward passes of one token after the prompt
	DecodeTime   time.Duration // those passes, the sampling of each token, and PackTime
	PackTime     time.Duration // packing the weights for decoding; 0 when not packed
}

// PromptRate returns the prompt's tokens per second.
func (s GenerateStats) PromptRate() float64 { return rate(s.PromptTokens, s.PromptTime) }

// DecodeRate returns the decoded tokens per second.
func (s GenerateStats) DecodeRate() float64 { return rate(s.Tokens, s.DecodeTime) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// GenerateTimed is Generate that also says where the time went; emit's
// own time is not counted.
func GenerateTimed(ctx context.Context, m *Model, tok Tokenizer, prompt string, steps int, sampler *Sampler, emit func(piece string)) ([]int, GenerateStats, error) {
	var st GenerateStats
	if tok.VocabSize() != m.VocabSize {
		return nil, st, fmt.Errorf("the tokenizer has %d tokens but the model's vocabulary has %d: use the tokenizer that belongs to the model", tok.VocabSize(), m.VocabSize)
	}
	var ids []int
	if te, ok := tok.(interface {
		EncodeErr(string, bool) ([]int, error)
	}); ok {
		// A hostile tokenizer.json's pattern times out with an error.
		var err error
		if ids, err = te.EncodeErr(prompt, true); err != nil {
			return nil, st, err
		}
	} else {
		ids = tok.Encode(prompt, true)
	}
	if len(ids) == 0 {
		return nil, st, fmt.Errorf("the prompt encodes to no tokens and the tokenizer has no BOS; give a prompt")
	}
	if steps <= 0 || steps > m.SeqLen {
		steps = m.SeqLen
	}
	if len(ids) > steps {
		return nil, st, fmt.Errorf("the prompt is %d tokens, more than the %d steps asked for", len(ids), steps)
	}
	s := NewState(m, len(ids), steps)
	t0 := time.Now()
	logits, err := s.Forward(ctx, ids, 0)
	st.PromptTokens, st.PromptTime = len(ids), time.Since(t0)
	if err != nil {
		return nil, st, err
	}
	var out []int
	last := logits[(len(ids)-1)*m.VocabSize:]
	prev := ids[len(ids)-1]
	t0 = time.Now()
	if steps > len(ids) {
		s.panels = packForDecoding(ctx, m, steps-len(ids), s.Workers)
		if s.panels != nil {
			st.PackTime = time.Since(t0)
		}
	}
	for pos := len(ids); ; pos++ {
		next := sampler.Sample(last)
		if next == tok.BOS() || next == tok.EOS() {
			break
		}
		out = append(out, next)
		if emit != nil {
			st.DecodeTime += time.Since(t0)
			emit(tok.Piece(prev, next))
			t0 = time.Now()
		}
		prev = next
		if pos == steps {
			break
		}
		if last, err = s.Forward(ctx, []int{next}, pos); err != nil {
			break
		}
		st.Tokens++
	}
	st.DecodeTime += time.Since(t0)
	return out, st, err
}

// TimeDecoding runs ids through m one token per forward pass from position
// 0, as Generate decodes after its prompt (from the same packed weights,
// packing included), and returns the time it took: the decoding speed of
// m on given text, with no sampling.
func TimeDecoding(ctx context.Context, m *Model, ids []int) (time.Duration, error) {
	if len(ids) == 0 {
		return 0, fmt.Errorf("no tokens to decode")
	}
	s := NewState(m, 1, len(ids))
	t0 := time.Now()
	s.panels = packForDecoding(ctx, m, len(ids), s.Workers)
	for pos, id := range ids {
		if _, err := s.Forward(ctx, []int{id}, pos); err != nil {
			return time.Since(t0), err
		}
	}
	return time.Since(t0), nil
}
