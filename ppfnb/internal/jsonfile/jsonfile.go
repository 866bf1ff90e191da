// Package jsonfile reads the versioned JSON files that the predictor and
// the agent are saved in: one object whose "format" and "version" fields
// say what it is, checked before anything else is read, so that a file of
// the wrong kind gets an error that names it instead of a decoding error
// about some field deep inside.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Decode reads the object in r into dst, refusing unknown fields. The
// object's "format" must equal format and its "version" version; if not,
// the error wraps mismatch. what names the file in errors ("predictor") and
// save says how to make one ("Predictor.Save").
func Decode(r io.Reader, format string, version int, what, save string, mismatch error, dst any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var hdr struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		return fmt.Errorf("not %s file (%v); save one with %s", article(what), err, save)
	}
	if hdr.Format != format {
		return fmt.Errorf("%w: format %q, want %q; is this %s file?", mismatch, hdr.Format, format, article(what))
	}
	if hdr.Version != version {
		return fmt.Errorf("%w: %s file version %d, this build reads version %d; retrain the %s or use the ppf that wrote it",
			mismatch, what, hdr.Version, version, what)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("damaged %s file: %v", what, err)
	}
	return nil
}

// Encode writes v as one indented JSON object.
func Encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
