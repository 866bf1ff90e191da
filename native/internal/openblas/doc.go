// Package openblas binds the few OpenBLAS routines that the engine's
// benchmarks compare against (cblas_sgemm, cblas_sgemv). It has code only
// under the openblas build tag, which needs cgo and Debian's
// libopenblas-dev; the engine never imports it.
package openblas
