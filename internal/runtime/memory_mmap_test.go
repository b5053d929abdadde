package runtime

import "testing"

// TestMappedMemory: a module known to grow large gets a mapping sized to its
// limit; growing does not move the buffer, the limit is still enforced, the
// peak is remembered, and a later instance sees only zeros.
func TestMappedMemory(t *testing.T) {
	mod := &module{}
	mod.peak.Store(mmapThreshold + 1)
	const limit = 32 << 20
	m := &linearMemory{pool: newMemPool(), limit: limit, mod: mod}
	lm := m.Allocate(pageSize, limit)
	if !m.mapped && mapMemorySupported() {
		t.Fatal("large module did not get a mapped memory")
	}
	b := lm.Reallocate(pageSize)
	b[0] = 0xAA
	grown := lm.Reallocate(16 << 20)
	if &grown[0] != &b[0] {
		t.Fatal("growing a mapped memory moved it")
	}
	grown[16<<20-1] = 0xBB
	if lm.Reallocate(limit+pageSize) != nil {
		t.Fatal("grow past the limit was allowed")
	}
	lm.Free()
	if got := mod.peak.Load(); got != 16<<20 {
		t.Fatalf("peak %d, want %d", got, 16<<20)
	}
	m2 := &linearMemory{pool: newMemPool(), limit: limit, mod: mod}
	b2 := m2.Allocate(pageSize, limit).Reallocate(16 << 20)
	for _, i := range []int{0, 16<<20 - 1} {
		if b2[i] != 0 {
			t.Fatalf("byte %d of a new instance is %#x: data crossed instances", i, b2[i])
		}
	}
	m2.Free()
}

func mapMemorySupported() bool {
	b, ok := mapMemory(pageSize)
	if ok {
		unmapMemory(b)
	}
	return ok
}
