package ppfnb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/tokenizer"
)

// LM is a loaded model with its tokenizer.
type LM struct {
	Name          string // what the user asked for: a model name or a path
	Path          string // the checkpoint file or folder
	TokenizerPath string
	Model         *native.Model
	Tokenizer     tokenizer.Tokenizer

	ev      native.Evaluator // nil: the CPU engine; see UseBackend
	backend string
}

// Load opens a model by name (a folder of native.ModelsDir(), such as
// "stories260K") or path, with the tokenizer at tokenizerPath, or the one
// found beside the model when tokenizerPath is "".
func Load(nameOrPath, tokenizerPath string) (*LM, error) {
	path, found, err := native.ResolveModel(nameOrPath)
	if err != nil {
		return nil, err
	}
	if tokenizerPath == "" {
		tokenizerPath = found
	}
	if tokenizerPath == "" {
		return nil, fmt.Errorf("no tokenizer found beside %s: give Load a tokenizer path (ppf: --tokenizer)", path)
	}
	m, err := native.LoadModel(path)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(tokenizerPath)
	if err != nil {
		return nil, err
	}
	// A Hugging Face model may pad its embedding beyond the tokenizer's
	// vocabulary; anything else means the two do not belong together.
	if tv := tok.VocabSize(); tv > m.VocabSize || (tv < m.VocabSize && !isDir(path)) {
		return nil, fmt.Errorf("tokenizer %s has %d tokens but model %s has a vocabulary of %d: use the tokenizer that belongs to the model",
			tokenizerPath, tv, path, m.VocabSize)
	}
	return &LM{Name: nameOrPath, Path: path, TokenizerPath: tokenizerPath, Model: m, Tokenizer: tok}, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// GenerateOptions sets how text is sampled.
type GenerateOptions struct {
	Prompt      string
	Steps       int     // forward passes, prompt included, as in llama2.c; 0: the whole context
	Temperature float64 // 0 is greedy
	TopP        float64 // nucleus sampling threshold; 0 or 1 disables it
	Seed        uint64
}

// Generate returns the text generated after the prompt, calling emit (when
// not nil) with each piece as it is produced.
func (lm *LM) Generate(ctx context.Context, opt GenerateOptions, emit func(piece string)) (string, error) {
	if lm.Model == nil || lm.Tokenizer == nil {
		return "", fmt.Errorf("%s has no model or no tokenizer: make LMs with Load, or set both fields", lm.Name)
	}
	sampler, err := native.NewSampler(opt.Temperature, opt.TopP, opt.Seed)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	_, err = native.Generate(ctx, lm.Model, lm.Tokenizer, opt.Prompt, opt.Steps, sampler, func(p string) {
		sb.WriteString(p)
		if emit != nil {
			emit(p)
		}
	})
	return sb.String(), err
}

// Eval is a perplexity measurement with what is needed to reproduce it.
type Eval struct {
	Model   string `json:"model"`
	Data    string `json:"data"`
	Text    string `json:"text"`    // how the text was prepared
	Backend string `json:"backend"` // where it ran: "cpu", or a GPU backend (see UseBackend)
	native.EvalResult
	// Unknown is the fraction of the text's tokens that are the
	// tokenizer's <unk>: text it has no pieces for, which every model
	// predicts alike. Warning says so when it is more than a tenth.
	Unknown float64 `json:"unknown"`
	Warning string  `json:"warning,omitempty"`
}

// unknownLimit is the fraction of <unk> tokens above which a perplexity
// comes with a warning. TinyStories has 0.06% under tok105 (its newlines),
// WikiText-2 1% (accents and symbols).
const unknownLimit = 0.1

// TextProtocol says how evaluation text is prepared, for reports.
const TextProtocol = "CRLF->LF, lines joined by \\n, tokenized once with BOS, non-overlapping windows"

// Evaluate measures the perplexity of the model on the text file at
// dataPath (a path, or a file name under native.DataDir()).
func (lm *LM) Evaluate(ctx context.Context, dataPath string, opt native.EvalOptions) (Eval, error) {
	if lm.Model == nil || lm.Tokenizer == nil {
		return Eval{}, fmt.Errorf("%s has no model or no tokenizer: make LMs with Load, or set both fields", lm.Name)
	}
	path := ResolveData(dataPath)
	text, err := native.ReadText(path)
	if err != nil {
		return Eval{}, err
	}
	ids, err := tokenizer.EncodeContext(ctx, lm.Tokenizer, text, true)
	if err != nil {
		return Eval{}, err
	}
	if opt, err = lm.withBackend(opt); err != nil {
		return Eval{}, err
	}
	res, err := native.Perplexity(ctx, lm.Model, ids, opt)
	if err != nil {
		return Eval{}, fmt.Errorf("%s on %s: %w", lm.Name, path, err)
	}
	ev := Eval{Model: lm.Name, Data: path, Text: TextProtocol, Backend: lm.Backend(), EvalResult: res}
	if unk := tokenizer.Unknown(lm.Tokenizer); unk >= 0 {
		n := 0
		for _, id := range ids {
			if id == unk {
				n++
			}
		}
		ev.Unknown = float64(n) / float64(len(ids))
	}
	if ev.Unknown > unknownLimit {
		ev.Warning = fmt.Sprintf("%.0f%% of the tokens of %s are <unk>, text the tokenizer of %s has no pieces for: this perplexity says little about the text", 100*ev.Unknown, path, lm.Name)
	}
	return ev, nil
}

// ResolveData returns path if it exists, else the same path under
// native.DataDir() when that exists (so "tinystories/TinyStories-valid-excerpt.txt"
// works from anywhere).
func ResolveData(path string) string {
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if cand := filepath.Join(native.DataDir(), path); fileExists(cand) {
		return cand
	}
	return path
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Save writes the model to dir as a Hugging Face folder (config.json with
// per-layer sizes when the model was pruned unevenly, and safetensors)
// with a copy of its tokenizer, so that Load(dir, "") loads it back.
func (lm *LM) Save(dir string) error {
	if err := native.SaveHF(lm.Model, dir); err != nil {
		return err
	}
	if lm.TokenizerPath == "" {
		return fmt.Errorf("saved the model to %s, but it has no tokenizer file to copy beside it; give Load a tokenizer", dir)
	}
	tok, err := os.ReadFile(lm.TokenizerPath)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, filepath.Base(lm.TokenizerPath)), tok, 0o644)
}
