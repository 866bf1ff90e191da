//go:build !unix

package kernel

import "testing"

func interruptProcess(t *testing.T) { t.Skip("no SIGINT on this system") }
