package native

import "testing"

// Hooks for the external tests of this package.

// KernelChoices names every implementation of the matrix products this
// machine runs, fastest first.
func KernelChoices() []string {
	var names []string
	for _, g := range gemms() {
		names = append(names, g.name())
	}
	return names
}

// UseKernels makes the forward pass use the named matrix-product
// implementation, and the SIMD element-wise kernels when vec (where the
// CPU has them), until t ends.
func UseKernels(t testing.TB, name string, vec bool) {
	for _, g := range gemms() {
		if g.name() == name {
			oldG, oldVec := defaultGemm, vecOps
			defaultGemm, vecOps = g, vec && vecOps
			t.Cleanup(func() { defaultGemm, vecOps = oldG, oldVec })
			return
		}
	}
	t.Fatalf("no kernels %q on this machine", name)
}
