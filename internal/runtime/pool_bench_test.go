package runtime

import (
	"context"
	"net/http"
	"testing"
)

// The Go hello example (examples/hello, written with the SDK) per request:
// warm in a pool versus a fresh instance per request (OpenFaaS ABI).
// go test -run '^$' -bench GoHello -benchtime 2s ./internal/runtime/

func helloRequest() *PooledRequest {
	return &PooledRequest{Method: "POST", Path: "/", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("Sigil")}
}

func BenchmarkGoHelloPooled(b *testing.B) {
	digest, wasm := goGuest(b, "../../examples/hello")
	r := poolRuntime(b, wasm)
	p := r.Pool("hello", PoolSpec{Digest: digest, Instances: 1})
	ctx := context.Background()
	req := helloRequest()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := p.Do(ctx, req)
		if err != nil || string(resp.Body) != "Hello, Sigil!\n" {
			b.Fatalf("Do = %v, %v", resp, err)
		}
	}
}

// BenchmarkGoHelloPooledParallel drives a pool of GOMAXPROCS instances from
// GOMAXPROCS goroutines.
func BenchmarkGoHelloPooledParallel(b *testing.B) {
	digest, wasm := goGuest(b, "../../examples/hello")
	r := poolRuntime(b, wasm)
	p := r.Pool("hello", PoolSpec{Digest: digest, Instances: 2, MaxQueue: 64})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := helloRequest()
		for pb.Next() {
			if _, err := p.Do(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGoHelloFresh(b *testing.B) {
	digest, wasm := goGuest(b, "../../examples/hello")
	r := poolRuntime(b, wasm)
	spec := &Spec{
		Digest: digest,
		Args:   []string{"hello"},
		Env:    []string{"Http_Method=POST", "Http_Path=/", "Http_Content_Type=text/plain", "Http_Content_Length=5"},
		Stdin:  []byte("Sigil"),
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.Invoke(ctx, spec)
		if err != nil || out.ExitCode != 0 || string(out.Stdout) != "Hello, Sigil!\n" {
			b.Fatalf("Invoke = %q %d, %v", out.Stdout, out.ExitCode, err)
		}
	}
}
