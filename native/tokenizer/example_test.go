package tokenizer_test

import (
	"fmt"

	"github.com/ppfkit/ppf/native/tokenizer"
)

// Load picks the format from the file; Encode adds BOS on request and Piece
// turns generated ids into text one at a time.
func ExampleLoad() {
	tok, err := tokenizer.Load("../shared/models/llama2-tokenizer/tokenizer.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.Encode("I believe the meaning of life is", true)
	fmt.Println(ids) // [1 306 4658 278 6593 310 2834 338]
	prev := tok.BOS()
	for _, id := range ids[1:] {
		fmt.Print(tok.Piece(prev, id))
		prev = id
	}
	fmt.Println()
}
