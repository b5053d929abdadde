package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upgradeGate holds background compiles at their start until opened.
type upgradeGate struct {
	started chan string   // digests whose background compile is waiting
	open    chan struct{} // closed by release
	once    sync.Once
}

// gateUpgrades makes r's background compiles wait for release (or for the
// runtime to close). Call it before anything is compiled.
func gateUpgrades(r *Runtime) *upgradeGate {
	g := &upgradeGate{started: make(chan string, 16), open: make(chan struct{})}
	r.interp.beforeUpgrade = func(ctx context.Context, digest string) {
		g.started <- digest
		select {
		case <-g.open:
		case <-ctx.Done():
		}
	}
	return g
}

func (g *upgradeGate) release() { g.once.Do(func() { close(g.open) }) }

// waitStarted waits for the background compile of digest to reach the gate.
func (g *upgradeGate) waitStarted(t *testing.T, digest string) {
	t.Helper()
	select {
	case d := <-g.started:
		if d != digest {
			t.Fatalf("background compile of %s, want %s", d, digest)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no background compile started")
	}
}

// forbidUpgrades fails the test if r starts a background compile.
func forbidUpgrades(t *testing.T, r *Runtime) {
	r.interp.beforeUpgrade = func(_ context.Context, digest string) {
		t.Errorf("background compile of %s started; want the compiler only", digest)
	}
}

// waitEngine polls until digest is served by engine; a Go module's
// compile can take seconds on a loaded machine.
func waitEngine(t *testing.T, r *Runtime, digest, engine string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for r.ModuleEngine(digest) != engine {
		if time.Now().After(deadline) {
			t.Fatalf("ModuleEngine = %q, want %q", r.ModuleEngine(digest), engine)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

func helloSpec(digest string) *Spec {
	return &Spec{
		Digest: digest,
		Args:   []string{"hello"},
		Env:    []string{"Http_Method=POST", "Http_Path=/", "Http_Content_Type=text/plain", "Http_Content_Length=5"},
		Stdin:  []byte("Sigil"),
	}
}

func invokeHello(t *testing.T, r *Runtime, digest string) Outcome {
	t.Helper()
	out, err := r.Invoke(context.Background(), helloSpec(digest))
	if err != nil || out.ExitCode != 0 || string(out.Stdout) != "Hello, Sigil!\n" {
		t.Fatalf("Invoke = %q (exit %d), %v", out.Stdout, out.ExitCode, err)
	}
	return out
}

// TestInterpretFirstLargeModule follows a 5 MB Go module from push to
// compiled code: Compile returns while the compiler is held back, fresh
// instances run on the interpreter meanwhile, a pool waits for compiled
// code, and new instances switch to it once it is there. A second Runtime
// on the same CacheDir then skips the interpreter.
func TestInterpretFirstLargeModule(t *testing.T) {
	digest, wasm := goGuest(t, "../../examples/hello")
	if len(wasm) <= DefaultInterpretFirstMin {
		t.Fatalf("examples/hello is %d bytes, want a module above %d", len(wasm), DefaultInterpretFirstMin)
	}
	dir := t.TempDir()
	r := newRuntime(t, Config{CacheDir: dir})
	gate := gateUpgrades(r)
	t.Cleanup(gate.release)

	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	gate.waitStarted(t, digest) // Compile returned; the compiler has not begun
	if got := r.ModuleEngine(digest); got != EngineInterpreter {
		t.Fatalf("ModuleEngine after Compile = %q, want %q", got, EngineInterpreter)
	}
	if st := r.Stats(); st.Compiled != 1 || st.Interpreted != 1 {
		t.Fatalf("stats = %+v, want 1 compiled module, interpreted", st)
	}

	p := r.Pool("hello", PoolSpec{Digest: digest, Instances: 1})
	for i := range 2 {
		if out := invokeHello(t, r, digest); !out.Interpreted {
			t.Fatalf("invocation %d did not run on the interpreter", i)
		}
	}
	if st := r.Stats(); st.InterpretedInvocations != 2 {
		t.Fatalf("stats = %+v, want 2 interpreted invocations", st)
	}
	// Pooled instances run compiled code only: none is ready yet.
	if st := p.Stats(); st.Ready != 0 || st.Starting != 1 {
		t.Fatalf("pool stats = %+v, want its instance still starting", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "compiled", strings.TrimPrefix(digest, digestPrefix))); !os.IsNotExist(err) {
		t.Fatalf("marker exists before the compiler ran (stat: %v)", err)
	}

	gate.release()
	waitEngine(t, r, digest, EngineCompiler)
	resp, err := p.Do(context.Background(), helloRequest())
	if err != nil || string(resp.Body) != "Hello, Sigil!\n" {
		t.Fatalf("pool Do = %v, %v", resp, err)
	}
	if out := invokeHello(t, r, digest); out.Interpreted {
		t.Fatal("an invocation after the switch ran on the interpreter")
	}
	if st := r.Stats(); st.Interpreted != 0 || st.InterpretedInvocations != 2 {
		t.Fatalf("stats = %+v, want no interpreted module and still 2 interpreted invocations", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "compiled", strings.TrimPrefix(digest, digestPrefix))); err != nil {
		t.Fatalf("no marker after the compiler ran: %v", err)
	}

	// A restart: the marker says the file cache has the machine code.
	r2 := newRuntime(t, Config{CacheDir: dir})
	forbidUpgrades(t, r2)
	if err := r2.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatalf("Compile after restart: %v", err)
	}
	if got := r2.ModuleEngine(digest); got != EngineCompiler {
		t.Fatalf("ModuleEngine after restart = %q, want %q", got, EngineCompiler)
	}
	if out := invokeHello(t, r2, digest); out.Interpreted {
		t.Fatal("an invocation after restart ran on the interpreter")
	}
}

// TestInterpretFirstChoice: which engine compiles a module first.
func TestInterpretFirstChoice(t *testing.T) {
	tests := []struct {
		name string
		min  int
		want string
	}{
		{name: "small module, default threshold", min: 0, want: EngineCompiler},
		{name: "above a tiny threshold", min: 1, want: EngineInterpreter},
		{name: "turned off", min: -1, want: EngineCompiler},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, Config{InterpretFirstMin: tt.min})
			digest, wasm := guest(t, "echo")
			var gate *upgradeGate
			if tt.want == EngineCompiler {
				forbidUpgrades(t, r)
			} else {
				gate = gateUpgrades(r)
				t.Cleanup(gate.release)
			}
			if err := r.Compile(context.Background(), digest, wasm); err != nil {
				t.Fatal(err)
			}
			if got := r.ModuleEngine(digest); got != tt.want {
				t.Fatalf("ModuleEngine = %q, want %q", got, tt.want)
			}
			out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("hi")})
			if err != nil || string(out.Stdout) != "hi" || out.Interpreted != (tt.want == EngineInterpreter) {
				t.Fatalf("Invoke = %+v, %v", out, err)
			}
		})
	}
}

// TestInterpretFirstSwitchUnderLoad switches a module to compiled code
// while invocations run: none fails, later ones are compiled, and the
// in-memory marker (no CacheDir) makes a recompile skip the interpreter.
func TestInterpretFirstSwitchUnderLoad(t *testing.T) {
	r := newRuntime(t, Config{InterpretFirstMin: 1})
	gate := gateUpgrades(r)
	t.Cleanup(gate.release)
	digest, wasm := guest(t, "echo")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	gate.waitStarted(t, digest)

	var (
		stop        atomic.Bool
		interpreted atomic.Int64
		compiled    atomic.Int64
		wg          sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("x")})
				if err != nil || string(out.Stdout) != "x" {
					t.Errorf("Invoke = %q, %v", out.Stdout, err)
					return
				}
				if out.Interpreted {
					interpreted.Add(1)
				} else {
					compiled.Add(1)
				}
			}
		})
	}
	waitFor(t, "interpreted invocations", func() bool { return interpreted.Load() >= 20 })
	gate.release()
	waitFor(t, "compiled invocations", func() bool { return compiled.Load() >= 20 || t.Failed() })
	stop.Store(true)
	wg.Wait()

	r.Evict(digest)
	forbidUpgrades(t, r)
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	if got := r.ModuleEngine(digest); got != EngineCompiler {
		t.Fatalf("ModuleEngine after evict and recompile = %q, want %q", got, EngineCompiler)
	}
}

// TestInterpretFirstEvictDuringCompile: a module evicted while its
// compiler run is held back stays evicted; the next load uses the
// compiled code.
func TestInterpretFirstEvictDuringCompile(t *testing.T) {
	r := newRuntime(t, Config{InterpretFirstMin: 1})
	gate := gateUpgrades(r)
	digest, wasm := guest(t, "echo")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	gate.waitStarted(t, digest)
	r.Evict(digest)
	gate.release()
	r.interp.bg.Wait()
	if r.Compiled(digest) {
		t.Fatal("the background compile brought an evicted module back")
	}
	out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte("hi")})
	if err != nil || !out.ColdStart || out.Interpreted || string(out.Stdout) != "hi" {
		t.Fatalf("Invoke = %+v, %v; want a cold start on compiled code", out, err)
	}
}

// TestInterpretFirstCloseStopsCompile: Close does not wait for a held
// background compile, and the module stays interpreted until then.
func TestInterpretFirstCloseStopsCompile(t *testing.T) {
	r := newRuntime(t, Config{InterpretFirstMin: 1})
	gate := gateUpgrades(r)
	digest, wasm := guest(t, "echo")
	if err := r.Compile(context.Background(), digest, wasm); err != nil {
		t.Fatal(err)
	}
	gate.waitStarted(t, digest)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := r.Invoke(context.Background(), &Spec{Digest: digest}); err != ErrClosed {
		t.Fatalf("Invoke after Close = %v, want ErrClosed", err)
	}
}
