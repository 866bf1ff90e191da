package native

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrUnknownModel is wrapped when a model name or path cannot be found.
var ErrUnknownModel = errors.New("unknown model")

// ModelsDir is where models are looked up by name: $PPF_MODELS, or else the
// first shared/models found beside the current directory or one of its
// parents (../shared/models from the project's root).
func ModelsDir() string { return sharedDir("PPF_MODELS", "models") }

// DataDir is where evaluation and calibration text is found: $PPF_DATA, or
// else shared/data found as for ModelsDir.
func DataDir() string { return sharedDir("PPF_DATA", "data") }

func sharedDir(env, sub string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", sub)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "..", "shared", sub)
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return filepath.Clean(cand)
		}
		if filepath.Dir(dir) == dir {
			return filepath.Join("..", "shared", sub)
		}
	}
}

// ResolveModel turns a model name (a folder of ModelsDir, such as
// "stories260K") or a path (a llama2.c .bin file, or a folder holding one or
// a Hugging Face config.json) into the checkpoint path and the path of the
// tokenizer found beside it ("" when there is none).
func ResolveModel(nameOrPath string) (model, tok string, err error) {
	path := nameOrPath
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(ModelsDir(), nameOrPath)
		if _, err := os.Stat(path); err != nil || strings.ContainsAny(nameOrPath, `/\`) {
			return "", "", fmt.Errorf("%w: %q is neither a file or folder nor a model in %s (available: %s); set PPF_MODELS to the folder that holds your models",
				ErrUnknownModel, nameOrPath, ModelsDir(), strings.Join(ModelNames(), ", "))
		}
	}
	st, _ := os.Stat(path)
	dir := path
	if st.IsDir() {
		if model, err = findCheckpoint(path); err != nil {
			return "", "", err
		}
	} else {
		model, dir = path, filepath.Dir(path)
	}
	return model, findTokenizer(dir), nil
}

// ModelNames lists the folders of ModelsDir that hold a checkpoint.
func ModelNames() []string {
	entries, _ := os.ReadDir(ModelsDir())
	var names []string
	for _, e := range entries {
		if _, err := findCheckpoint(filepath.Join(ModelsDir(), e.Name())); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	return names
}

func findCheckpoint(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return dir, nil
	}
	bins, _ := filepath.Glob(filepath.Join(dir, "*.bin"))
	var models []string
	for _, b := range bins {
		if !isTokenizerFile(filepath.Base(b)) {
			models = append(models, b)
		}
	}
	switch len(models) {
	case 1:
		return models[0], nil
	case 0:
		return "", fmt.Errorf("%w: %s holds no config.json and no llama2.c .bin checkpoint", ErrUnknownModel, dir)
	default:
		sort.Strings(models)
		return "", fmt.Errorf("%w: %s holds several checkpoints (%s); name the file", ErrUnknownModel, dir, strings.Join(models, ", "))
	}
}

func isTokenizerFile(name string) bool {
	return strings.HasPrefix(name, "tok") && strings.HasSuffix(name, ".bin")
}

// findTokenizer returns the tokenizer file in dir, preferring Hugging Face's
// tokenizer.json, then SentencePiece .model files, then llama2.c's tok*.bin.
func findTokenizer(dir string) string {
	for _, pattern := range []string{"tokenizer.json", "tokenizer.model", "*.model", "tok*.bin"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) > 0 {
			sort.Strings(m)
			return m[0]
		}
	}
	return ""
}

// LoadModel loads a checkpoint found by ResolveModel: a Hugging Face folder
// or a llama2.c file.
func LoadModel(path string) (*Model, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return LoadHF(path)
	}
	return LoadLlama2C(path)
}

// ReadText reads an evaluation or calibration text and normalises its line
// endings: CRLF and lone CR become LF. Lines are otherwise kept as they are,
// joined by "\n", so the text is tokenized as one document.
//
// A file that is not text (a NUL byte, or more than 1% of its bytes not
// UTF-8: a checkpoint, an archive) is an error: its "perplexity" would be
// a number about nothing.
func ReadText(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read text: %w", err)
	}
	if err := checkText(b); err != nil {
		return "", fmt.Errorf("read text %s: %w; give a plain text file (UTF-8)", path, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n"), nil
}

// ErrNotText is wrapped when a text file holds binary data.
var ErrNotText = errors.New("not text")

// checkText refuses data with a NUL byte or with more than 1% of its
// bytes outside valid UTF-8.
func checkText(b []byte) error {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fmt.Errorf("%w: a NUL byte at offset %d", ErrNotText, i)
	}
	bad := 0
	for rest := b; len(rest) > 0; {
		r, n := utf8.DecodeRune(rest)
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		rest = rest[n:]
	}
	if bad*100 > len(b) {
		return fmt.Errorf("%w: %d of its %d bytes are not UTF-8", ErrNotText, bad, len(b))
	}
	return nil
}
