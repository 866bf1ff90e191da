// Package cell is the execution layer of the PPF Jupyter kernel: it runs
// notebook cells, written in Go 1.26, keeping their declarations and
// variables from cell to cell.
//
// A cell goes through a real Go front end before the yaegi interpreter
// runs it (docs/kernel.md has the whole story):
//
//   - check.go, planner.go: the cell is parsed and type-checked with
//     go/types against the session's declarations (package gotypes builds
//     the imported packages from the interpreter's own symbol tables);
//     a cell that does not type-check is refused and changes nothing;
//   - session.go, propagate.go, emit.go: redefinitions get new names in
//     the interpreter and what uses them is compiled again (late binding,
//     as in GoNB); top-level variables become the session's;
//   - rewrite.go and the files it dispatches to (ranges.go, loops.go,
//     calls.go, values.go, printf.go, compiled.go, limits.go): with the
//     types go/types found, the source is rewritten where yaegi would run
//     it differently from the compiler, or refused by name;
//   - apply.go: the declarations and the statements are compiled and run.
//
// The last line, when an expression with values, is the cell's result,
// shown richly when its value has an HTML, Markdown, SVG or PNG method
// (package ppfnb/display). os.Exit and log.Fatal stop the cell, not the
// kernel; a panic, in the cell or in a goroutine it started, becomes an
// error with the cell's lines; Interrupt cancels the cell's context, and
// context.Background() inside cells, and stops the interpreter.
//
// The engine publishes everything through the Publisher interface and
// knows nothing of ZeroMQ or of the Jupyter wire format.
package cell
