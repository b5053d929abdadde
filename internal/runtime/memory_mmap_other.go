//go:build !linux

package runtime

const mmapThreshold = 4 << 20

// mapMemory is Linux-only; elsewhere every memory is a Go-heap buffer.
func mapMemory(uint64) ([]byte, bool) { return nil, false }

func unmapMemory([]byte) {}
