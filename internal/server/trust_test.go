package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/build"
	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// TestTamperedArtifactRefusedAtLoad replaces a stored module's bytes behind
// the store's back: the next load recomputes the digest, refuses to compile
// the bytes, logs it and counts sigil_digest_mismatch_total.
func TestTamperedArtifactRefusedAtLoad(t *testing.T) {
	if !build.Available("go") {
		t.Skip("no Go toolchain for wasip1")
	}
	ctx := context.Background()
	dir := t.TempDir()
	n, err := Start(ctx, Config{DataDir: dir, Listen: "127.0.0.1:0", NoAuth: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	var hello build.Example
	for _, e := range build.Examples() {
		if e.Name == "hello" {
			hello = e
		}
	}
	path, err := build.BuildExample(ctx, "../..", hello, t.TempDir())
	if err != nil {
		t.Skipf("build hello: %v", err)
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := trust.Sign(ctx, n.keys.Dev, wasm)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(n.URL())
	art, err := c.PushSigned(ctx, wasm, bundle, []string{"hello"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Deploy(ctx, client.FunctionDeployment{Service: "hello", Image: "hello"}, false); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Post(n.URL()+"/function/hello", "text/plain", strings.NewReader("x")); err != nil || res.StatusCode != 200 {
		t.Fatalf("invoke before tampering: %v %v", res, err)
	}
	// Tamper: same object name, other bytes, written straight to JetStream.
	js, err := jetstream.New(n.nc)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, artifact.ObjectBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.PutBytes(ctx, art.Digest, guestTamper(wasm)); err != nil {
		t.Fatal(err)
	}
	n.rt.Evict(art.Digest)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Post(n.URL()+"/function/hello", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tampered module still runs: %d", res.StatusCode)
		}
		n.rt.Evict(art.Digest)
	}
	res, err := http.Get(n.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(m), "sigil_digest_mismatch_total ") || strings.Contains(string(m), "sigil_digest_mismatch_total 0") {
		t.Fatalf("mismatch not counted:\n%s", grepLines(string(m), "sigil_digest"))
	}
}

func guestTamper(b []byte) []byte {
	out := append([]byte{}, b...)
	out[len(out)-1] ^= 0xff
	return out
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
