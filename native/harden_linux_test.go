package native

import "syscall"

// limitAddressSpace caps the process's virtual memory, so that a loader
// that allocates what a crafted header asks for fails fast.
func limitAddressSpace(n uint64) {
	syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: n, Max: n})
}
