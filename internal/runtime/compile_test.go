package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestCompileRejects(t *testing.T) {
	r := newRuntime(t, Config{})
	_, echo := guest(t, "echo")
	reactorDigest, reactor := guest(t, "reactor")
	envDigest, envImport := guest(t, "envimport")
	garbage := []byte("\x00asm\x01\x00\x00\x00\xffgarbage")

	tests := []struct {
		name    string
		digest  string
		wasm    []byte
		wantErr error
		wantMsg string
	}{
		{name: "digest mismatch", digest: digestOf([]byte("x")), wasm: echo, wantErr: ErrDigestMismatch, wantMsg: "hash to"},
		{name: "malformed digest", digest: "md5:abc", wasm: echo, wantErr: ErrDigestMismatch, wantMsg: "malformed"},
		{name: "not wasm", digest: digestOf([]byte("hello")), wasm: []byte("hello"), wantErr: ErrInvalidModule, wantMsg: "invalid magic"},
		{name: "bad section", digest: digestOf(garbage), wasm: garbage, wantErr: ErrInvalidModule},
		{name: "reactor without _start", digest: reactorDigest, wasm: reactor, wantErr: ErrInvalidModule, wantMsg: `no exported function "_start"`},
		{name: "imports env.foo", digest: envDigest, wasm: envImport, wantErr: ErrInvalidModule, wantMsg: `"env"."foo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Compile(context.Background(), tt.digest, tt.wasm)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
			if r.Compiled(tt.digest) {
				t.Fatal("a rejected module is marked compiled")
			}
		})
	}
}

func TestCompileIdempotentConcurrent(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, wasm := guest(t, "echo")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := r.Compile(context.Background(), digest, wasm); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if !r.Compiled(digest) || r.Stats().Compiled != 1 {
		t.Fatalf("Compiled = %v, stats %+v; want one compiled module", r.Compiled(digest), r.Stats())
	}
	// A compiled module is not a cold start.
	out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("hi")})
	if err != nil || out.ColdStart || string(out.Stdout) != "hi" {
		t.Fatalf("Invoke = %+v, %v; want warm echo", out, err)
	}
}

func TestEvictReloads(t *testing.T) {
	l := &loader{}
	r := newRuntime(t, Config{Load: l.load})
	digest, _ := guest(t, "echo")

	for i, want := range []struct {
		cold  bool
		loads int
	}{{true, 1}, {false, 1}} {
		out, err := r.Invoke(context.Background(), &Spec{Digest: digest})
		if err != nil || out.ColdStart != want.cold || l.count() != want.loads {
			t.Fatalf("call %d: cold=%v loads=%d err=%v; want cold=%v loads=%d", i, out.ColdStart, l.count(), err, want.cold, want.loads)
		}
	}
	r.Evict(digest)
	if r.Compiled(digest) {
		t.Fatal("still compiled after Evict")
	}
	out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("again")})
	if err != nil || !out.ColdStart || string(out.Stdout) != "again" || l.count() != 2 {
		t.Fatalf("after Evict: out=%+v err=%v loads=%d; want a cold start through Load", out, err, l.count())
	}
	if st := r.Stats(); st.ColdStarts != 2 || st.Invocations != 3 {
		t.Fatalf("stats = %+v, want 2 cold starts of 3 invocations", st)
	}
}

// TestCacheDirReuse checks that a second Runtime on the same cache dir is
// served from the files the first one wrote: no file is added or rewritten.
func TestCacheDirReuse(t *testing.T) {
	dir := t.TempDir()
	digest, wasm := guest(t, "echo")

	r1, err := New(context.Background(), Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := cacheFiles(t, dir)
	if len(before) == 0 {
		t.Fatal("the first runtime wrote nothing to the cache dir")
	}

	r2 := newRuntime(t, Config{CacheDir: dir})
	if err := r2.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	after := cacheFiles(t, dir)
	if len(after) != len(before) {
		t.Fatalf("cache dir has %d files after the second compile, want %d (a cache hit writes nothing)", len(after), len(before))
	}
	for path, fi := range before {
		if !os.SameFile(fi, after[path]) || !fi.ModTime().Equal(after[path].ModTime()) {
			t.Fatalf("%s was rewritten: the second compile missed the cache", path)
		}
	}
	if out, err := r2.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("cached")}); err != nil || string(out.Stdout) != "cached" {
		t.Fatalf("Invoke from cached code = %q, %v", out.Stdout, err)
	}
}

func cacheFiles(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	files := map[string]os.FileInfo{}
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			files[path] = fi
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestLoadOutlivesCancelledCaller: a caller that gives up during a slow
// Load gets its context error, but the load and compile finish and serve
// the next caller without a second Load.
func TestLoadOutlivesCancelledCaller(t *testing.T) {
	digest, wasm := guest(t, "echo")
	started, release := make(chan struct{}), make(chan struct{})
	var loads int
	r := newRuntime(t, Config{Load: func(context.Context, string) ([]byte, error) {
		loads++
		close(started)
		<-release
		return wasm, nil
	}})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Invoke(ctx, &Spec{Digest: digest})
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(release)
	waitFor(t, "the detached compile", func() bool { return r.Compiled(digest) })
	out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("late")})
	if err != nil || out.ColdStart || string(out.Stdout) != "late" || loads != 1 {
		t.Fatalf("next caller: out=%+v err=%v loads=%d; want a warm echo after one Load", out, err, loads)
	}
}
