package native_test

import (
	"testing"

	"github.com/ppfkit/ppf/native"
	"github.com/ppfkit/ppf/native/backendtest"
)

// The CPU engine passes the backend conformance suite against the float64
// reference.
func TestCPUBackendConformance(t *testing.T) {
	b, err := native.GetBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, b, backendtest.Float32)
}

func TestUnknownBackend(t *testing.T) {
	if _, err := native.GetBackend("tpu"); err == nil {
		t.Error("GetBackend(tpu) succeeded")
	}
}
