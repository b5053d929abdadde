package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sigilhq/sigil/internal/build"
)

// Go guests are built once per test binary with internal/build.Go, and
// their machine code is shared through one compilation cache directory, so
// each test's Runtime compiles a 5 MB Go module in milliseconds.
var (
	goGuestMu    sync.Mutex
	goGuests     = map[string][]byte{} // source dir -> module bytes
	goGuestDir   string
	goGuestCache string
)

// goGuest builds the Go main package in srcDir (relative to this package).
func goGuest(tb testing.TB, srcDir string) (string, []byte) {
	tb.Helper()
	goGuestMu.Lock()
	defer goGuestMu.Unlock()
	if b, ok := goGuests[srcDir]; ok {
		return digestOf(b), b
	}
	if goGuestDir == "" {
		dir, err := os.MkdirTemp("", "sigil-runtime-go-guests-")
		if err != nil {
			tb.Fatal(err)
		}
		goGuestDir, goGuestCache = dir, filepath.Join(dir, "cache")
	}
	out := filepath.Join(goGuestDir, strings.ReplaceAll(srcDir, "/", "_")+".wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := build.Go(ctx, srcDir, out); err != nil {
		tb.Fatalf("building Go guest %s: %v", srcDir, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	goGuests[srcDir] = b
	return digestOf(b), b
}

// sdkGuest is testdata/sdkguest, the pooled guest written with the SDK.
func sdkGuest(tb testing.TB) (string, []byte) { return goGuest(tb, "testdata/sdkguest") }

// poolRuntime is a Runtime sharing the Go guests' compilation cache, with
// the given modules compiled.
func poolRuntime(tb testing.TB, modules ...[]byte) *Runtime {
	tb.Helper()
	goGuestMu.Lock()
	cache := goGuestCache
	goGuestMu.Unlock()
	r := newRuntime(tb, Config{CacheDir: cache})
	for _, m := range modules {
		if err := r.Compile(context.Background(), digestOf(m), m); err != nil {
			tb.Fatalf("Compile: %v", err)
		}
	}
	return r
}

// sdkPool is a pool of the SDK guest.
func sdkPool(tb testing.TB, spec PoolSpec) (*Runtime, *Pool) {
	tb.Helper()
	digest, wasm := sdkGuest(tb)
	r := poolRuntime(tb, wasm)
	spec.Digest = digest
	return r, r.Pool("test/"+tb.Name(), spec)
}

func get(path string) *PooledRequest {
	p, q, _ := strings.Cut(path, "?")
	return &PooledRequest{Method: "GET", Path: p, RawQuery: q, Header: http.Header{}}
}

func echo(body string) *PooledRequest {
	return &PooledRequest{Method: "POST", Path: "/echo", RawQuery: "a=1", Header: http.Header{"X-In": {"in"}}, Body: []byte(body)}
}

func mustDo(t *testing.T, p *Pool, req *PooledRequest) *PooledResponse {
	t.Helper()
	resp, err := p.Do(context.Background(), req)
	if err != nil {
		t.Fatalf("Do %s %s: %v", req.Method, req.Path, err)
	}
	return resp
}

func checkEcho(t *testing.T, resp *PooledResponse, body string) {
	t.Helper()
	if resp.Status != http.StatusAccepted || string(resp.Body) != body || resp.Header.Get("X-In") != "in" ||
		resp.Header.Get("X-Query") != "a=1" || resp.Header.Get("X-Method") != "POST" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("echo = %d %v %q, want 202 with the request's headers and body %q", resp.Status, resp.Header, resp.Body, body)
	}
}

func TestPoolServesManyRequestsPerInstance(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 1})
	for i := 1; i <= 5; i++ {
		resp := mustDo(t, p, echo(fmt.Sprint("body ", i)))
		checkEcho(t, resp, fmt.Sprint("body ", i))
		if got := resp.Header.Get("X-Served"); got != fmt.Sprint(i) {
			t.Fatalf("request %d served as the instance's request %s: the instance was not reused", i, got)
		}
	}
	st := p.Stats()
	if st.Served != 5 || st.Ready != 1 || st.Idle != 1 || st.Replaced != 0 || st.Target != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// recorder is a Stream that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	status int
	header http.Header
	chunks []string
}

func (r *recorder) Head(status int, h http.Header) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.header = status, h
	return nil
}

func (r *recorder) Chunk(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, string(p))
	return nil
}

func TestPoolStreams(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 1})
	rec := &recorder{}
	req := get("/stream?n=3")
	req.Stream = rec
	resp := mustDo(t, p, req)
	if resp.Status != 200 || resp.Body != nil {
		t.Errorf("response = %d %q, want 200 and no body", resp.Status, resp.Body)
	}
	want := []string{"chunk 0\n", "chunk 1\n", "chunk 2\n"}
	if rec.status != 200 || !reflect.DeepEqual(rec.chunks, want) {
		t.Errorf("stream = %d %q, want 200 %q", rec.status, rec.chunks, want)
	}
}

func TestPoolEnvSecretsAndLogs(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	_, p := sdkPool(t, PoolSpec{
		Instances: 1,
		Env:       []string{"GREETING=hi", "SIGIL_ABI=spoofed"},
		Secrets:   fstest.MapFS{"api-key": &fstest.MapFile{Data: []byte("s3cret"), Mode: 0o444}},
		Stderr: func(line string) {
			mu.Lock()
			lines = append(lines, line)
			mu.Unlock()
		},
	})
	tests := []struct{ path, want string }{
		{"/env?k=GREETING", "hi"},
		{"/env?k=SIGIL_ABI", "pooled"},
		{"/env?k=HOME", ""},
		{"/secret?name=api-key", "s3cret"},
		{"/print", "ok"},
	}
	for _, tt := range tests {
		if resp := mustDo(t, p, get(tt.path)); string(resp.Body) != tt.want {
			t.Errorf("%s = %d %q, want %q", tt.path, resp.Status, resp.Body, tt.want)
		}
	}
	waitFor(t, "the printed line in stderr", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(strings.Join(lines, "\n"), "printed to stdout")
	})
}

func TestPoolConcurrency(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 2, MaxQueue: 100})
	waitFor(t, "two ready instances", func() bool { return p.Stats().Ready == 2 })
	const goroutines, each = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf("g%d-r%d", g, i)
				resp, err := p.Do(context.Background(), echo(body))
				if err != nil {
					errs <- err
					continue
				}
				if string(resp.Body) != body {
					errs <- fmt.Errorf("got %q for %q: responses crossed", resp.Body, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := p.Stats()
	if st.Served != goroutines*each || st.Ready != 2 || st.Replaced != 0 || st.Queued != 0 || st.Busy != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPoolQueueFull(t *testing.T) {
	tests := []struct {
		name         string
		spec         PoolSpec
		wantInflight bool
	}{
		{name: "max_inflight", spec: PoolSpec{Instances: 1, MaxInflight: 1}, wantInflight: true},
		{name: "default queue", spec: PoolSpec{Instances: 1, MaxQueue: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := sdkPool(t, tt.spec)
			mustDo(t, p, get("/echo")) // the instance is up
			results := make(chan error, 2)
			go func() { _, err := p.Do(context.Background(), get("/sleep?d=300ms")); results <- err }()
			waitFor(t, "the first request to be busy", func() bool { return p.Stats().Busy == 1 })
			go func() { _, err := p.Do(context.Background(), get("/echo")); results <- err }()
			waitFor(t, "the second request to queue", func() bool { return p.Stats().Queued == 1 })

			_, err := p.Do(context.Background(), get("/echo"))
			var qf *QueueFullError
			if !errors.As(err, &qf) || !errors.Is(err, ErrQueueFull) || !errors.Is(err, ErrBusy) || qf.MaxInflight != tt.wantInflight || qf.Limit != 1 {
				t.Fatalf("third request: %v (%#v), want a QueueFullError with MaxInflight=%v", err, qf, tt.wantInflight)
			}
			for range 2 {
				if err := <-results; err != nil {
					t.Errorf("a request within the bounds failed: %v", err)
				}
			}
		})
	}
}

func TestPoolQueueWaitIsBounded(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 1, Timeout: 2 * time.Second})
	mustDo(t, p, get("/echo"))
	go func() { _, _ = p.Do(context.Background(), get("/sleep?d=1s")) }()
	waitFor(t, "the first request to be busy", func() bool { return p.Stats().Busy == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Do(ctx, get("/echo")); !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued request past its context = %v, want ErrBusy wrapping the deadline", err)
	}
	if st := p.Stats(); st.Queued != 0 {
		t.Errorf("queued = %d after the caller gave up", st.Queued)
	}
}

// TestPoolHostileGuests: each hostile request is contained with its own
// error, its instance is replaced, and the pool's other instance keeps
// serving meanwhile.
func TestPoolHostileGuests(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		spec     PoolSpec
		wantErr  error
		wantTrap bool
		wantMsg  string
	}{
		{name: "endless loop", path: "/loop", spec: PoolSpec{Timeout: time.Second}, wantErr: ErrTimeout},
		{name: "memory bomb", path: "/bomb", spec: PoolSpec{MemoryLimit: 64 << 20}, wantErr: ErrMemoryLimit},
		{name: "trap", path: "/trap", wantTrap: true, wantMsg: "out of bounds memory access"},
		{name: "goroutine panic", path: "/crash", wantErr: ErrInstanceExited, wantMsg: "code 2"},
		{name: "exit", path: "/exit", wantErr: ErrInstanceExited, wantMsg: "code 3"},
		{name: "output flood", path: "/big?n=2000000", spec: PoolSpec{MaxStdout: 1 << 20}, wantErr: ErrOutputLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Instances = 2
			_, p := sdkPool(t, spec)
			waitFor(t, "two ready instances", func() bool { return p.Stats().Ready == 2 })

			hostile := make(chan error, 1)
			go func() { _, err := p.Do(context.Background(), get(tt.path)); hostile <- err }()
			// Meanwhile the other instance serves.
			for i := range 10 {
				checkEcho(t, mustDo(t, p, echo(fmt.Sprint(i))), fmt.Sprint(i))
			}
			err := <-hostile
			var trap *TrapError
			switch {
			case tt.wantTrap && !errors.As(err, &trap):
				t.Fatalf("Do %s = %v, want a *TrapError", tt.path, err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Do %s = %v, want %v", tt.path, err, tt.wantErr)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)):
				t.Fatalf("Do %s = %v, want it to say %q", tt.path, err, tt.wantMsg)
			}
			waitFor(t, "the instance to be replaced", func() bool {
				st := p.Stats()
				return st.Replaced == 1 && st.Ready == 2
			})
			for i := range 4 {
				resp := mustDo(t, p, echo("after"))
				checkEcho(t, resp, "after")
				_ = i
			}
		})
	}
}

// TestPoolProtocolBreakers runs guests that are not pooled guests: they are
// refused at start, and requests fail instead of hanging.
func TestPoolProtocolBreakers(t *testing.T) {
	tests := []struct {
		guest   string
		wantErr error
	}{
		{guest: "echo", wantErr: ErrProtocol},           // waits for stdin's end: never says hello
		{guest: "spew", wantErr: ErrProtocol},           // writes garbage
		{guest: "exit3", wantErr: ErrInstanceExited},    // exits at once
		{guest: "trap", wantErr: &TrapError{}},          // traps at once
		{guest: "bigmin", wantErr: ErrMemoryLimit},      // cannot start within the limit
		{guest: "no such module", wantErr: ErrNotFound}, // no artifact
	}
	for _, tt := range tests {
		t.Run(tt.guest, func(t *testing.T) {
			r := newRuntime(t, Config{})
			digest := "sha256:" + strings.Repeat("0", 64)
			if tt.guest != "no such module" {
				digest, _ = guest(t, tt.guest)
			}
			p := r.Pool("bad", PoolSpec{Digest: digest, Timeout: 300 * time.Millisecond, MemoryLimit: 1 << 20})
			start := time.Now()
			_, err := p.Do(context.Background(), get("/"))
			if trap, ok := tt.wantErr.(*TrapError); ok {
				if !errors.As(err, &trap) {
					t.Fatalf("Do = %v, want a trap", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Do = %v, want %v", err, tt.wantErr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Do took %s", d)
			}
			// While the pool backs off, requests fail fast with the cause.
			if _, err := p.Do(context.Background(), get("/")); err == nil {
				t.Error("second Do succeeded")
			}
			if st := p.Stats(); st.StartFailures == 0 || st.Ready != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestPoolResize(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 1, MaxInstances: 3})
	steps := []struct{ resize, want int }{{3, 3}, {5, 3}, {1, 1}, {0, 0}}
	for _, s := range steps {
		p.Resize(s.resize)
		waitFor(t, fmt.Sprintf("%d ready instances after Resize(%d)", s.want, s.resize), func() bool {
			st := p.Stats()
			return st.Ready == s.want && st.Starting == 0 && st.Target == s.want
		})
	}
	// From zero, the next request starts an instance.
	checkEcho(t, mustDo(t, p, echo("from zero")), "from zero")
	if st := p.Stats(); st.Ready != 1 || st.Target != 1 || st.Replaced != 0 {
		t.Errorf("stats after scale from zero = %+v", st)
	}
}

func TestPoolRevisionReplacesPool(t *testing.T) {
	r, p1 := sdkPool(t, PoolSpec{Instances: 1, Revision: "1"})
	digest, _ := sdkGuest(t)
	if p := r.Pool("test/"+t.Name(), PoolSpec{Digest: digest, Revision: "1"}); p != p1 {
		t.Fatal("same revision gave a new pool")
	}
	p2 := r.Pool("test/"+t.Name(), PoolSpec{Digest: digest, Revision: "2", Env: []string{"GREETING=new"}})
	if p2 == p1 {
		t.Fatal("new revision gave the old pool")
	}
	if _, err := p1.Do(context.Background(), get("/echo")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do on the replaced pool = %v, want ErrClosed", err)
	}
	if resp := mustDo(t, p2, get("/env?k=GREETING")); string(resp.Body) != "new" {
		t.Errorf("new pool env = %q", resp.Body)
	}
	if got, ok := r.LookupPool("test/" + t.Name()); !ok || got != p2 {
		t.Error("LookupPool does not return the new pool")
	}
	r.ClosePool("test/" + t.Name())
	if _, ok := r.LookupPool("test/" + t.Name()); ok {
		t.Error("pool still there after ClosePool")
	}
	if _, err := p2.Do(context.Background(), get("/echo")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do on a closed pool = %v, want ErrClosed", err)
	}
}

func TestPoolCallerGivesUp(t *testing.T) {
	_, p := sdkPool(t, PoolSpec{Instances: 1})
	mustDo(t, p, get("/echo"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := &recorder{}
	req := get("/stream?n=2")
	req.Path = "/sleep"
	req.RawQuery = "d=300ms"
	req.Stream = rec
	if _, err := p.Do(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v, want the context's error", err)
	}
	// The instance finishes the request unobserved and serves again.
	waitFor(t, "the instance to be idle again", func() bool { st := p.Stats(); return st.Idle == 1 && st.Busy == 0 })
	if st := p.Stats(); st.Replaced != 0 {
		t.Errorf("instance replaced: %+v", st)
	}
	rec.mu.Lock()
	if rec.status != 0 {
		t.Errorf("stream used after Do returned: %d", rec.status)
	}
	rec.mu.Unlock()
	checkEcho(t, mustDo(t, p, echo("again")), "again")
}

func TestRuntimeCloseStopsPools(t *testing.T) {
	digest, wasm := sdkGuest(t)
	goGuestMu.Lock()
	cache := goGuestCache
	goGuestMu.Unlock()
	r, err := New(context.Background(), Config{CacheDir: cache, Logger: newRuntime(t, Config{}).log})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	p := r.Pool("k", PoolSpec{Digest: digest, Instances: 2})
	waitFor(t, "two ready instances", func() bool { return p.Stats().Ready == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := p.Do(context.Background(), get("/echo")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
	if _, err := r.Pool("k2", PoolSpec{Digest: digest}).Do(context.Background(), get("/echo")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do on a pool made after Close = %v, want ErrClosed", err)
	}
}
