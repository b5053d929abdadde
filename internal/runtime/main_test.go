package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test guests are assembled from testdata/*.wat once per test binary.
var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
	guestWasm map[string][]byte // name (without .wat) -> module bytes
)

func TestMain(m *testing.M) {
	code := m.Run()
	if guestDir != "" {
		_ = os.RemoveAll(guestDir)
	}
	if goGuestDir != "" {
		_ = os.RemoveAll(goGuestDir)
	}
	os.Exit(code)
}

func buildGuests() {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		guestErr = fmt.Errorf("wat2wasm not found: install wabt (make deps): %w", err)
		return
	}
	if guestDir, guestErr = os.MkdirTemp("", "sigil-runtime-guests-"); guestErr != nil {
		return
	}
	srcs, err := filepath.Glob("testdata/*.wat")
	if err != nil || len(srcs) == 0 {
		guestErr = fmt.Errorf("no testdata/*.wat: %v", err)
		return
	}
	guestWasm = map[string][]byte{}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".wat")
		dst := filepath.Join(guestDir, name+".wasm")
		if out, err := exec.Command(wat2wasm, src, "-o", dst).CombinedOutput(); err != nil {
			guestErr = fmt.Errorf("wat2wasm %s: %v: %s", src, err, out)
			return
		}
		b, err := os.ReadFile(dst)
		if err != nil {
			guestErr = err
			return
		}
		guestWasm[name] = b
	}
}

// guest returns the digest and bytes of testdata/<name>.wat.
func guest(tb testing.TB, name string) (string, []byte) {
	tb.Helper()
	guestOnce.Do(buildGuests)
	if guestErr != nil {
		tb.Fatalf("building test guests: %v", guestErr)
	}
	b, ok := guestWasm[name]
	if !ok {
		tb.Fatalf("no guest %q in testdata", name)
	}
	return digestOf(b), b
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// loader serves every test guest by digest and counts loads.
type loader struct {
	mu    sync.Mutex
	calls int
}

func (l *loader) load(_ context.Context, digest string) ([]byte, error) {
	l.mu.Lock()
	l.calls++
	l.mu.Unlock()
	for _, b := range guestWasm {
		if digestOf(b) == digest {
			return b, nil
		}
	}
	return nil, nil
}

func (l *loader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func newRuntime(tb testing.TB, cfg Config) *Runtime {
	tb.Helper()
	guest(tb, "echo") // make sure guests are built before Load is used
	if cfg.Load == nil {
		cfg.Load = (&loader{}).load
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}
