//go:build !linux

package native

func limitAddressSpace(uint64) {}
