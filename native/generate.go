package native

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
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
	r := s.rng.Float64()
	if s.TopP <= 0 || s.TopP >= 1 {
		for i, p := range probs {
			if r -= p; r < 0 {
				return i
			}
		}
		return len(probs) - 1
	}
	// nucleus: most likely tokens first, until their mass reaches TopP
	order := s.order[:len(probs)]
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	var mass float64
	last := len(order) - 1
	for i, id := range order {
		if mass += probs[id]; mass >= s.TopP {
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

// Generate runs the model from prompt (BOS first) as llama2.c's generate
// does: steps is the number of forward passes, so a prompt of p tokens
// (BOS included) yields up to steps-p+1 new tokens, and generation stops
// early at BOS or EOS. steps <= 0 means the model's whole context. Each new
// token's text is passed to emit as soon as it is chosen; the generated ids
// are returned.
func Generate(ctx context.Context, m *Model, tok Tokenizer, prompt string, steps int, sampler *Sampler, emit func(piece string)) ([]int, error) {
	if tok.VocabSize() != m.VocabSize {
		return nil, fmt.Errorf("the tokenizer has %d tokens but the model's vocabulary has %d: use the tokenizer that belongs to the model", tok.VocabSize(), m.VocabSize)
	}
	var ids []int
	if te, ok := tok.(interface {
		EncodeErr(string, bool) ([]int, error)
	}); ok {
		// A hostile tokenizer.json's pattern times out with an error.
		var err error
		if ids, err = te.EncodeErr(prompt, true); err != nil {
			return nil, err
		}
	} else {
		ids = tok.Encode(prompt, true)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("the prompt encodes to no tokens and the tokenizer has no BOS; give a prompt")
	}
	if steps <= 0 || steps > m.SeqLen {
		steps = m.SeqLen
	}
	if len(ids) > steps {
		return nil, fmt.Errorf("the prompt is %d tokens, more than the %d steps asked for", len(ids), steps)
	}
	s := NewState(m, len(ids), steps)
	logits, err := s.Forward(ctx, ids, 0)
	if err != nil {
		return nil, err
	}
	var out []int
	last := logits[(len(ids)-1)*m.VocabSize:]
	prev := ids[len(ids)-1]
	for pos := len(ids); ; pos++ {
		next := sampler.Sample(last)
		if next == tok.BOS() || next == tok.EOS() {
			break
		}
		out = append(out, next)
		if emit != nil {
			emit(tok.Piece(prev, next))
		}
		prev = next
		if pos == steps {
			break
		}
		if last, err = s.Forward(ctx, []int{next}, pos); err != nil {
			return out, err
		}
	}
	return out, nil
}
