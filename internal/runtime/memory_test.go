package runtime

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// TestRecycledMemoryIsZeroed proves no data crosses invocations through the
// memory pool: scribble prints 8 bytes of its memory, then writes a secret
// there; every call, including those given a recycled buffer, must print
// zeros.
func TestRecycledMemoryIsZeroed(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, _ := guest(t, "scribble")
	reusedBefore := r.mem.reused.Load()
	for i := range 20 {
		out, err := r.Invoke(context.Background(), &Spec{Digest: digest})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Stdout, make([]byte, 8)) {
			t.Fatalf("call %d read %q from a fresh instance's memory, want zeros", i, out.Stdout)
		}
	}
	if r.mem.reused.Load() == reusedBefore {
		t.Fatal("no linear memory was recycled: the test proved nothing")
	}
}

func TestLinearMemory(t *testing.T) {
	tests := []struct {
		name       string
		limit      uint64
		grows      []uint64 // successive Reallocate sizes
		wantNil    []bool
		wantDenied bool
	}{
		{name: "within limit", limit: 4 * pageSize, grows: []uint64{pageSize, 2 * pageSize, 4 * pageSize}, wantNil: []bool{false, false, false}},
		{name: "past limit", limit: 2 * pageSize, grows: []uint64{pageSize, 3 * pageSize, 2 * pageSize}, wantNil: []bool{false, true, false}, wantDenied: true},
		{name: "beyond the pooled sizes", limit: 64 << 20, grows: []uint64{pageSize, 32 << 20}, wantNil: []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := newMemPool()
			m := &linearMemory{pool: pool, limit: tt.limit}
			lm := m.Allocate(pageSize, maxPages*pageSize)
			for i, size := range tt.grows {
				b := lm.Reallocate(size)
				if (b == nil) != tt.wantNil[i] {
					t.Fatalf("Reallocate(%d) nil = %v, want %v", size, b == nil, tt.wantNil[i])
				}
				if b == nil {
					continue
				}
				if uint64(len(b)) != size {
					t.Fatalf("Reallocate(%d) len = %d", size, len(b))
				}
				if !bytes.Equal(b[len(b)-pageSize:], make([]byte, pageSize)) {
					t.Fatalf("Reallocate(%d): new pages are not zero", size)
				}
				b[0], b[len(b)-1] = 0xAA, 0xBB // dirty both ends
			}
			if m.denied.Load() != tt.wantDenied {
				t.Fatalf("denied = %v, want %v", m.denied.Load(), tt.wantDenied)
			}
			lm.Free()
			lm.Free() // idempotent
			for _, size := range tt.grows {
				b := pool.get(size)
				if !bytes.Equal(b[:cap(b)], make([]byte, cap(b))) {
					t.Fatalf("pool handed out a dirty %d-byte buffer", cap(b))
				}
			}
		})
	}
}

func TestPoolClasses(t *testing.T) {
	tests := []struct {
		size uint64
		want uint
	}{{0, 16}, {1, 16}, {pageSize, 16}, {pageSize + 1, 17}, {3 * pageSize, 18}, {8 << 20, 23}, {8<<20 + 1, 24}}
	for _, tt := range tests {
		if got := class(tt.size); got != tt.want {
			t.Errorf("class(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
	p := newMemPool()
	p.put(make([]byte, 0, 3*pageSize)) // not a class size: dropped
	p.put(make([]byte, 0, 16<<20))     // too big: dropped
	if b := p.get(3 * pageSize); cap(b) != 4*pageSize || p.reused.Load() != 0 {
		t.Fatalf("get = cap %d, reused %d; want a new 256 KiB buffer", cap(b), p.reused.Load())
	}
}

// TestWriteSecretGuestCanWrite checks the writesecret guest itself: given
// a writable mount it reports success (exit 10), so its exit 1 under
// Invoke really comes from the read-only mount.
func TestWriteSecretGuestCanWrite(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, wasm := guest(t, "writesecret")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fsc := wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(sysfs.DirFS(dir), SecretsPath)
	_, err := r.rt.InstantiateModule(context.Background(), r.lookup(digest).cm, r.base.WithFSConfig(fsc))
	code, ok := exitCode(err)
	if !ok || code != 10 {
		t.Fatalf("writable mount: err = %v, want exit 10", err)
	}
}

func exitCode(err error) (uint32, bool) {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), true
	}
	return 0, false
}
