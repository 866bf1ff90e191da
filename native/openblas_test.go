//go:build openblas

package native

import "github.com/ppfkit/ppf/native/internal/openblas"

func init() {
	reference = &blasRef{name: "openblas-" + openblas.Core(), sgemm: openblas.SgemmNT, sgemv: openblas.Sgemv}
}
