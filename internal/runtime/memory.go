package runtime

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

const (
	pageSize = 1 << 16 // Wasm page, 64 KiB
	maxPages = 1 << 16 // 4 GiB, the wasm32 ceiling; per-invocation limits are enforced by linearMemory

	minPoolShift = 16 // smallest pooled buffer: 64 KiB
	maxPoolShift = 23 // largest pooled buffer: 8 MiB; bigger ones go back to the GC
)

// memPool recycles linear-memory buffers in power-of-two size classes.
// Invariant: every buffer in the pool is entirely zero.
type memPool struct {
	classes [maxPoolShift - minPoolShift + 1]sync.Pool
	reused  atomic.Uint64 // buffers handed out again (observability, tests)
}

func newMemPool() *memPool { return &memPool{} }

// class returns the size-class shift for a buffer of at least size bytes.
func class(size uint64) uint {
	if size <= 1<<minPoolShift {
		return minPoolShift
	}
	return uint(bits.Len64(size - 1))
}

// get returns a zeroed, empty buffer with capacity of at least size.
func (p *memPool) get(size uint64) []byte {
	shift := class(size)
	if shift > maxPoolShift {
		return make([]byte, 0, size)
	}
	if v, ok := p.classes[shift-minPoolShift].Get().(*[]byte); ok {
		p.reused.Add(1)
		return (*v)[:0]
	}
	return make([]byte, 0, 1<<shift)
}

// put returns a buffer that the caller has zeroed in full.
func (p *memPool) put(b []byte) {
	c := uint64(cap(b))
	shift := class(c)
	if c != 1<<shift || shift > maxPoolShift {
		return // not a pool size class: leave it to the GC
	}
	b = b[:0]
	p.classes[shift-minPoolShift].Put(&b)
}

// linearMemory is the allocator and the memory of one instance. It refuses
// to grow past limit (the guest's memory.grow returns -1) and, on Free,
// zeroes what the guest could have touched before recycling the buffer, so
// no data crosses from one invocation to the next.
type linearMemory struct {
	pool   *memPool
	limit  uint64  // bytes
	mod    *module // where the peak size is remembered (nil in unit tests)
	mapped bool    // buf is an anonymous mapping of limit bytes, not Go heap
	buf    []byte
	used   bool        // Allocate was called
	denied atomic.Bool // a grow past limit was refused (read by the host while a pooled guest runs)
	freed  bool
}

var (
	_ experimental.MemoryAllocator = (*linearMemory)(nil)
	_ experimental.LinearMemory    = (*linearMemory)(nil)
)

// Allocate implements experimental.MemoryAllocator. wazero supports a
// single memory per module, so one linearMemory serves one instance.
func (m *linearMemory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	if m.used { // defensive: a second memory gets its own, unpooled state
		return &linearMemory{pool: m.pool, limit: m.limit, used: true, buf: m.pool.get(capacity)}
	}
	m.used = true
	// A module that grew past mmapThreshold before (Go guests: tens of MB)
	// gets its whole limit reserved as an anonymous mapping: growing never
	// copies, and pages the guest does not touch cost nothing — instead of
	// zeroing and copying a large Go-heap buffer per instance.
	if m.mod != nil && max(m.mod.peak.Load(), capacity) > mmapThreshold {
		if b, ok := mapMemory(m.limit); ok {
			m.buf, m.mapped = b[:0], true
			return m
		}
	}
	m.buf = m.pool.get(capacity)
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.denied.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes between the old and new length were never exposed, and the
		// buffer came zeroed, so they are zero.
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := max(size, 2*uint64(cap(m.buf)))
	if shift := class(newCap); shift <= maxPoolShift {
		newCap = 1 << shift
	}
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	// The old buffer holds guest data: it goes to the GC, never to the pool.
	m.buf = nb
	return nb
}

// Free implements experimental.LinearMemory. wazero calls it once, when the
// instance is closed and no longer running.
func (m *linearMemory) Free() {
	if m.freed || m.buf == nil {
		return
	}
	m.freed = true
	if m.mod != nil {
		for used := uint64(len(m.buf)); ; {
			old := m.mod.peak.Load()
			if used <= old || m.mod.peak.CompareAndSwap(old, used) {
				break
			}
		}
	}
	if m.mapped {
		unmapMemory(m.buf[:cap(m.buf)]) // the pages go back to the kernel
		m.buf = nil
		return
	}
	clear(m.buf) // len(m.buf) covers every byte the guest could reach
	m.pool.put(m.buf)
	m.buf = nil
}
