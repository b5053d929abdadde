package artifact

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
)

func openStore(t *testing.T) (*Store, *natstest.Server) {
	t.Helper()
	srv := natstest.Start(t)
	s, err := Open(context.Background(), srv.JS, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, srv
}

func wasm(body string) []byte { return append([]byte("\x00asm\x01\x00\x00\x00"), body...) }

func TestPutGetStatResolve(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	mod := wasm("hello")
	a, err := s.Put(ctx, mod, "openfaas", []string{"hello", "docker.io/library/hello:1"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if a.Digest != DigestOf(mod) || a.Size != int64(len(mod)) || a.ABI != "openfaas" || a.Created.IsZero() {
		t.Fatalf("Put returned %+v", a)
	}
	if want := []string{"hello:1", "hello:latest"}; !reflect.DeepEqual(a.Tags, want) {
		t.Fatalf("tags = %v, want %v", a.Tags, want)
	}
	got, err := s.Get(ctx, a.Digest)
	if err != nil || !bytes.Equal(got, mod) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	st, err := s.Stat(ctx, a.Digest)
	if err != nil || !reflect.DeepEqual(st.Tags, a.Tags) || !st.Created.Equal(a.Created) || st.ABI != "openfaas" {
		t.Fatalf("Stat = %+v, %v; want %+v", st, err, a)
	}
	for _, image := range []string{"hello", "hello:latest", "docker.io/library/hello:latest", "hello:1", a.Digest, "whatever@" + a.Digest} {
		r, err := s.Resolve(ctx, image)
		if err != nil || r.Digest != a.Digest {
			t.Errorf("Resolve(%q) = %+v, %v", image, r, err)
		}
	}

	other := DigestOf([]byte("nope"))
	tests := []struct {
		image string
		want  error
	}{
		{"hello:2", ErrNotFound},
		{"nothere", ErrNotFound},
		{other, ErrNotFound},
		{"hello@" + other, ErrNotFound},
		{"x:latest-fatal: not a git repository", ErrInvalidRef},
		{"", ErrInvalidRef},
	}
	for _, tt := range tests {
		if _, err := s.Resolve(ctx, tt.image); !errors.Is(err, tt.want) {
			t.Errorf("Resolve(%q) err = %v, want %v", tt.image, err, tt.want)
		}
	}
	if _, err := s.Get(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) err = %v", err)
	}
	if _, err := s.Stat(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(missing) err = %v", err)
	}
	if _, err := s.Get(ctx, "sha256:zz"); !errors.Is(err, ErrInvalidRef) {
		t.Errorf("Get(bad digest) err = %v", err)
	}
}

func TestPutRejects(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	tests := []struct {
		name string
		wasm []byte
		tags []string
		want error
	}{
		{"empty", nil, nil, ErrInvalidArtifact},
		{"too large", make([]byte, MaxSize+1), nil, ErrInvalidArtifact},
		{"bad tag", wasm("x"), []string{"ok", "Bad Tag"}, ErrInvalidRef},
		{"digest tag", wasm("x"), []string{"hello@" + DigestOf(nil)}, ErrInvalidRef},
	}
	for _, tt := range tests {
		if _, err := s.Put(ctx, tt.wasm, "openfaas", tt.tags); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Nothing was stored by the rejected calls.
	list, err := s.List(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("List = %v, %v; want empty", list, err)
	}
}

func TestIdempotentPut(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	mod := wasm("same")
	a1, err := s.Put(ctx, mod, "openfaas", []string{"same:1"})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := s.Put(ctx, mod, "wagi", []string{"same:2"})
	if err != nil {
		t.Fatal(err)
	}
	if a1.Digest != a2.Digest || !a1.Created.Equal(a2.Created) || a2.ABI != "wagi" {
		t.Fatalf("second put = %+v, first %+v", a2, a1)
	}
	if want := []string{"same:1", "same:2"}; !reflect.DeepEqual(a2.Tags, want) {
		t.Fatalf("tags = %v, want %v", a2.Tags, want)
	}
	objs, err := s.obs.List(ctx)
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects = %d, %v; want 1", len(objs), err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].ABI != "wagi" {
		t.Fatalf("List = %+v, %v", list, err)
	}
}

func TestRetagMovesTag(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	v1, err := s.Put(ctx, wasm("v1"), "openfaas", []string{"app", "app:v1"})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s.Put(ctx, wasm("v2"), "openfaas", []string{"app:latest", "app:v2"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Resolve(ctx, "app")
	if err != nil || r.Digest != v2.Digest {
		t.Fatalf("Resolve(app) = %s, %v; want %s", r.Digest, err, v2.Digest)
	}
	st, err := s.Stat(ctx, v1.Digest)
	if err != nil || !reflect.DeepEqual(st.Tags, []string{"app:v1"}) {
		t.Fatalf("v1 tags = %v, %v; want [app:v1]", st.Tags, err)
	}
	// Moving every tag away leaves an untagged artifact that is kept.
	if _, err := s.Put(ctx, wasm("v2"), "openfaas", []string{"app:v1"}); err != nil {
		t.Fatal(err)
	}
	st, err = s.Stat(ctx, v1.Digest)
	if err != nil || len(st.Tags) != 0 || st.Tags == nil {
		t.Fatalf("v1 tags = %#v, %v; want empty", st.Tags, err)
	}
	if _, err := s.Get(ctx, v1.Digest); err != nil {
		t.Fatalf("untagged artifact not kept: %v", err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	var digests []string
	for _, b := range []string{"a", "b", "c"} {
		a, err := s.Put(ctx, wasm(b), "openfaas", []string{"m:" + b})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, a.Digest)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %v, %v", list, err)
	}
	for i := 1; i < len(list); i++ {
		p, c := list[i-1], list[i]
		if p.Created.Before(c.Created) || (p.Created.Equal(c.Created) && p.Digest > c.Digest) {
			t.Fatalf("List not sorted: %+v before %+v", p, c)
		}
	}
	for _, a := range list {
		if len(a.Tags) != 1 || a.Tags[0] != "m:"+string(wasmBody(t, s, a.Digest)) {
			t.Errorf("artifact %s tags = %v", a.Digest, a.Tags)
		}
	}
}

func wasmBody(t *testing.T, s *Store, digest string) []byte {
	t.Helper()
	b, err := s.Get(context.Background(), digest)
	if err != nil {
		t.Fatal(err)
	}
	return b[8:]
}

func TestLargeRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, _ := openStore(t)
	big := make([]byte, 3<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	a, err := s.Put(ctx, big, "openfaas", []string{"big"})
	if err != nil {
		t.Fatalf("Put 3 MiB: %v", err)
	}
	got, err := s.Get(ctx, a.Digest)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get 3 MiB: equal=%v err=%v", bytes.Equal(got, big), err)
	}
}

func TestCorruptObjectDetected(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	a, err := s.Put(ctx, wasm("genuine"), "openfaas", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Replace the object's bytes under the same name, behind the store's back.
	if _, err := s.obs.PutBytes(ctx, a.Digest, wasm("evil!!!")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, a.Digest); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get after tampering err = %v, want ErrCorrupt", err)
	}
}

func TestReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	s, srv := openStore(t)
	a, err := s.Put(ctx, wasm("persist"), "wagi", []string{"p:1"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv2 := natstest.StartAt(t, srv.Dir)
	s2, err := Open(ctx, srv2.JS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s2.Resolve(ctx, "p:1")
	if err != nil || r.Digest != a.Digest || r.ABI != "wagi" {
		t.Fatalf("Resolve after restart = %+v, %v", r, err)
	}
	if _, err := s2.Get(ctx, a.Digest); err != nil {
		t.Fatal(err)
	}
}

func TestMaxSizeRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB round trip skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := openStore(t)
	big := make([]byte, MaxSize)
	for i := range big {
		big[i] = byte(i * 7)
	}
	a, err := s.Put(ctx, big, "openfaas", nil)
	if err != nil {
		t.Fatalf("Put 64 MiB: %v", err)
	}
	got, err := s.Get(ctx, a.Digest)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get 64 MiB: equal=%v err=%v", bytes.Equal(got, big), err)
	}
}
