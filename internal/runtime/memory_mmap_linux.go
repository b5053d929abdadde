//go:build linux

package runtime

import "syscall"

// mmapThreshold is the memory size above which an instance's linear memory
// is a private anonymous mapping rather than a Go-heap buffer.
const mmapThreshold = 4 << 20

// mapMemory reserves size bytes of zeroed, private, anonymous memory.
// MAP_NORESERVE: the kernel commits a page only when the guest touches it.
func mapMemory(size uint64) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, false
	}
	return b, true
}

func unmapMemory(b []byte) { _ = syscall.Munmap(b) }
