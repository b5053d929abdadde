package runtime

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// BenchmarkPushToFirstResponse measures push → first response (Compile,
// then the first fresh-instance Invoke) for the 5 MB Go hello module on a
// fresh CacheDir per iteration: interpreter-first (the default) against
// the compiler only, and a restart (marker and file cache present).
// Besides ns/op it reports the second response's latency and, for
// interpreter-first, when new instances switched to compiled code.
//
//	go test -run '^$' -bench PushToFirstResponse -benchtime 3x ./internal/runtime/
func BenchmarkPushToFirstResponse(b *testing.B) {
	digest, wasm := goGuest(b, "../../examples/hello")
	ctx := context.Background()
	cases := []struct {
		name    string
		min     int
		restart bool
	}{
		{name: "interpreter-first", min: 0},
		{name: "compiler-only", min: -1},
		{name: "restart", min: 0, restart: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var second, switched time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir, err := os.MkdirTemp("", "sigil-bench-cache-")
				if err != nil {
					b.Fatal(err)
				}
				if c.restart {
					prime := newBenchRuntime(b, dir, 0)
					if err := prime.Compile(ctx, digest, wasm); err != nil {
						b.Fatal(err)
					}
					waitCompiled(b, prime, digest)
					_ = prime.Close(ctx)
				}
				r := newBenchRuntime(b, dir, c.min)
				b.StartTimer()

				start := time.Now()
				if err := r.Compile(ctx, digest, wasm); err != nil {
					b.Fatal(err)
				}
				benchHello(b, r, digest)

				b.StopTimer()
				t := time.Now()
				benchHello(b, r, digest)
				second += time.Since(t)
				waitCompiled(b, r, digest)
				switched += time.Since(start)
				_ = r.Close(ctx)
				_ = os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(second.Milliseconds())/float64(b.N), "second-ms")
			b.ReportMetric(float64(switched.Milliseconds())/float64(b.N), "compiled-ms")
		})
	}
}

func newBenchRuntime(b *testing.B, dir string, minSize int) *Runtime {
	b.Helper()
	r, err := New(context.Background(), Config{CacheDir: dir, InterpretFirstMin: minSize, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func benchHello(b *testing.B, r *Runtime, digest string) {
	b.Helper()
	out, err := r.Invoke(context.Background(), helloSpec(digest))
	if err != nil || string(out.Stdout) != "Hello, Sigil!\n" {
		b.Fatalf("Invoke = %q, %v", out.Stdout, err)
	}
}

// waitCompiled polls until digest runs on compiled code.
func waitCompiled(b *testing.B, r *Runtime, digest string) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for r.ModuleEngine(digest) != EngineCompiler {
		if time.Now().After(deadline) {
			b.Fatal("module never switched to compiled code")
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}
