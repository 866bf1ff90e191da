// Package notebooks holds the project's tutorials, Jupyter notebooks for
// the PPF kernel (see README.md in this folder), and the tests that run
// them. It has no code of its own: notebooks_test.go executes every
// notebook with `jupyter nbconvert --to notebook --execute` and checks its
// outputs against the same computations made here in compiled Go, and
// checks that the committed notebooks carry no outputs.
package notebooks
