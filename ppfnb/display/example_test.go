package display_test

import "github.com/ppfkit/ppf/ppfnb/display"

// Outside the kernel, displays print their text form.
func Example() {
	display.Table([]string{"model", "perplexity"}, [][]string{{"stories260K", "5.735"}})
	display.Markdown("**done**")
	// Output:
	// model        perplexity
	// stories260K  5.735
	// **done**
}
