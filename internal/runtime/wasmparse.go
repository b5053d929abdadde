package runtime

import (
	"errors"
	"fmt"
)

// memoryMinPages returns the initial page count of the memory a module
// defines (0 if it defines none). wazero does not expose this for a memory
// that is not exported, and the per-invocation allocator must know it
// before instantiation: an allocator cannot refuse the initial allocation.
func memoryMinPages(wasm []byte) (uint32, error) {
	if len(wasm) < 8 {
		return 0, errors.New("module shorter than its header")
	}
	b := wasm[8:]
	for len(b) > 0 {
		id := b[0]
		size, n, err := uleb32(b[1:])
		if err != nil {
			return 0, fmt.Errorf("section %d size: %w", id, err)
		}
		b = b[1+n:]
		if uint64(size) > uint64(len(b)) {
			return 0, fmt.Errorf("section %d overruns the module", id)
		}
		if id == 5 { // memory section
			return parseMemorySection(b[:size])
		}
		b = b[size:]
	}
	return 0, nil
}

func parseMemorySection(b []byte) (uint32, error) {
	count, n, err := uleb32(b)
	if err != nil {
		return 0, fmt.Errorf("memory count: %w", err)
	}
	if count == 0 {
		return 0, nil
	}
	b = b[n:]
	if len(b) < 1 {
		return 0, errors.New("memory limits truncated")
	}
	if b[0]&0x04 != 0 {
		return 0, errors.New("memory64 is not supported")
	}
	min, _, err := uleb32(b[1:])
	if err != nil {
		return 0, fmt.Errorf("memory min: %w", err)
	}
	return min, nil
}

// uleb32 decodes an unsigned LEB128 value of at most 32 bits.
func uleb32(b []byte) (v uint32, n int, err error) {
	var shift uint
	for i, c := range b {
		if i == 5 {
			break
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, errors.New("invalid LEB128")
}
