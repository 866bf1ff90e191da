package native_test

import (
	"fmt"
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/backendtest"
)

// The backend conformance suite (float64 reference, real checkpoint,
// masks, pruned shapes) once for every matrix-product implementation this
// machine runs, with and without the SIMD element-wise kernels.
func TestKernelsConformance(t *testing.T) {
	b, err := native.GetBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range native.KernelChoices() {
		for _, vec := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/vec=%v", name, vec), func(t *testing.T) {
				native.UseKernels(t, name, vec)
				backendtest.Run(t, b, backendtest.Float32)
			})
		}
	}
}
