package runtime

import (
	"context"
	"testing"
)

// BenchmarkInvokeEcho measures a warm invocation: a fresh instance of the
// WAT echo guest per op, 5-byte body, a few env vars like a real request.
func BenchmarkInvokeEcho(b *testing.B) {
	r := newRuntime(b, Config{})
	digest, wasm := guest(b, "echo")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		b.Fatal(err)
	}
	spec := &Spec{
		Digest: digest,
		Stdin:  []byte("hello"),
		Env:    []string{"Http_Method=POST", "Http_Path=/", "Http_Query=", "Http_Content_Type=text/plain", "Http_Content_Length=5", "fprocess=echo"},
		Args:   []string{"echo"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.Invoke(ctx, spec)
		if err != nil || len(out.Stdout) != 5 {
			b.Fatalf("Invoke = %q, %v", out.Stdout, err)
		}
	}
}

// BenchmarkInvokeEchoParallel is the same with GOMAXPROCS goroutines.
func BenchmarkInvokeEchoParallel(b *testing.B) {
	r := newRuntime(b, Config{})
	digest, wasm := guest(b, "echo")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		spec := &Spec{Digest: digest, Stdin: []byte("hello")}
		for pb.Next() {
			if _, err := r.Invoke(context.Background(), spec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
