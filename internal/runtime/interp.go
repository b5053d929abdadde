package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// DefaultInterpretFirstMin is the module size (bytes) above which a module
// the compiler has not compiled on this node yet is served by the
// interpreter while the compiler works in the background.
const DefaultInterpretFirstMin = 1 << 20

// Engine names, as reported by Runtime.Engine and Runtime.ModuleEngine.
const (
	EngineCompiler    = "compiler"
	EngineInterpreter = "interpreter"
)

// backgroundCompileWorkers is the number of goroutines one background
// compile uses. More than one also makes it stop promptly when the runtime
// closes (wazero checks the context between functions only then).
const backgroundCompileWorkers = 2

// interpState is the interpreter-first machinery of a Runtime; its zero
// value (no interpreter) turns the feature off.
type interpState struct {
	rt  wazero.Runtime // the interpreter; nil when interpreter-first is off
	min int            // module size above which it is used

	markerDir string              // <CacheDir>/compiled; "" keeps markers in memory
	markMu    sync.Mutex          // guards marked
	marked    map[string]struct{} // digests the compiler compiled (no CacheDir)

	bgCtx    context.Context // background compiles; cancelled by Close
	bgCancel context.CancelFunc
	bgSem    chan struct{} // bounds background compiles running at once
	bgMu     sync.Mutex    // guards bgClosed against bg.Add
	bgClosed bool
	bg       sync.WaitGroup

	// beforeUpgrade, when set (tests), runs in the background compile's
	// goroutine before the compiler starts.
	beforeUpgrade func(ctx context.Context, digest string)
}

// newInterpreter sets up interpreter-first for a runtime whose main engine
// is the compiler.
func newInterpreter(ctx context.Context, cfg Config) (*interpState, error) {
	s := &interpState{min: cfg.InterpretFirstMin, marked: map[string]struct{}{}}
	if s.min == 0 {
		s.min = DefaultInterpretFirstMin
	}
	if cfg.CacheDir != "" {
		s.markerDir = filepath.Join(cfg.CacheDir, "compiled")
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	s.bgSem = make(chan struct{}, max(1, goruntime.GOMAXPROCS(0)/2))
	if s.min < 0 {
		return s, nil
	}
	// No compilation cache: interpreted code is cheap to redo and is never
	// worth a file.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(maxPages))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("runtime: instantiate WASI in the interpreter: %w", err)
	}
	s.rt = rt
	return s, nil
}

// interpretFirst says whether wasm should be compiled with the interpreter
// first: it is large and the compiler has not compiled it on this node.
func (r *Runtime) interpretFirst(digest string, wasm []byte) bool {
	return r.interp.rt != nil && len(wasm) > r.interp.min && !r.markedCompiled(digest)
}

// wazeroStamp identifies the compiler whose machine code a marker vouches
// for: a marker left by another wazero version or platform is ignored,
// since wazero's file cache would not hold that code either.
var wazeroStamp = func() string {
	v := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				v = d.Version
				if d.Replace != nil {
					v = d.Replace.Path + "@" + d.Replace.Version
				}
			}
		}
	}
	return "wazero " + v + " " + goruntime.GOOS + "/" + goruntime.GOARCH + "\n"
}()

func (r *Runtime) markerPath(digest string) string {
	return filepath.Join(r.interp.markerDir, strings.TrimPrefix(digest, digestPrefix))
}

// markedCompiled reports whether the compiler has compiled digest on this
// node: its machine code is then in the compilation cache (the file cache,
// across restarts, when there is a CacheDir).
func (r *Runtime) markedCompiled(digest string) bool {
	if r.interp.markerDir == "" {
		r.interp.markMu.Lock()
		_, ok := r.interp.marked[digest]
		r.interp.markMu.Unlock()
		return ok
	}
	b, err := os.ReadFile(r.markerPath(digest))
	return err == nil && string(b) == wazeroStamp
}

// markCompiled records that the compiler compiled digest. A marker that
// cannot be written costs the next restart an interpreter compile, no more.
func (r *Runtime) markCompiled(digest string) {
	if r.interp.rt == nil {
		return // nothing reads markers
	}
	if r.interp.markerDir == "" {
		r.interp.markMu.Lock()
		r.interp.marked[digest] = struct{}{}
		r.interp.markMu.Unlock()
		return
	}
	if err := writeMarker(r.interp.markerDir, r.markerPath(digest)); err != nil {
		r.log.Warn("cannot record compiled module", "digest", digest, "err", err)
	}
}

// writeMarker writes a marker atomically (temp file, then rename).
func writeMarker(dir, path string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".marker-*")
	if err != nil {
		return fmt.Errorf("create marker: %w", err)
	}
	_, err = f.WriteString(wazeroStamp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write marker %s: %w", path, err)
	}
	return nil
}

// startUpgrade compiles wasm with the compiler in the background and, when
// that succeeds, replaces the interpreted module im with the compiled one
// for new instances. It does nothing once the runtime is closing.
func (r *Runtime) startUpgrade(digest string, wasm []byte, im *module) {
	r.interp.bgMu.Lock()
	defer r.interp.bgMu.Unlock()
	if r.interp.bgClosed {
		im.upgradeErr = ErrClosed
		close(im.upgraded)
		return
	}
	r.interp.bg.Add(1)
	go func() {
		defer r.interp.bg.Done()
		err := r.upgrade(digest, wasm, im)
		if err != nil {
			im.upgradeErr = err
			if !errors.Is(err, context.Canceled) {
				r.log.Error("background compile failed; the module stays interpreted", "digest", digest, "err", err)
			}
		}
		close(im.upgraded)
	}()
}

func (r *Runtime) upgrade(digest string, wasm []byte, im *module) error {
	ctx := r.interp.bgCtx
	select {
	case r.interp.bgSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.interp.bgSem }()
	ctx, cancel := context.WithTimeout(ctx, sharedWorkTimeout)
	defer cancel()
	if hook := r.interp.beforeUpgrade; hook != nil {
		hook(ctx, digest)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cm, err := r.build(experimental.WithCompilationWorkers(ctx, backgroundCompileWorkers), r.rt, wasm)
	if err != nil {
		return fmt.Errorf("compile %s: %w", digest, err)
	}
	r.markCompiled(digest)
	cm.peak.Store(im.peak.Load())
	r.mu.Lock()
	current := r.compiled[digest] == im
	if current {
		r.compiled[digest] = cm
	}
	r.mu.Unlock()
	if !current { // evicted meanwhile: the machine code stays in the cache
		cm.unpin()
		return nil
	}
	im.unpin() // the map's reference: closes once the last instance is made
	r.log.Debug("module switched to compiled code", "digest", digest)
	return nil
}

// stopUpgrades cancels background compiles and waits for them (or ctx).
func (r *Runtime) stopUpgrades(ctx context.Context) error {
	r.interp.bgMu.Lock()
	r.interp.bgClosed = true
	r.interp.bgMu.Unlock()
	if r.interp.bgCancel != nil {
		r.interp.bgCancel()
	}
	done := make(chan struct{})
	go func() {
		r.interp.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runtime: close: waiting for background compiles: %w", ctx.Err())
	}
}

// useCompiled is use for pooled instances, which run on compiled code only:
// while digest is interpreted it waits for the background compile. If that
// compile failed, the interpreted module is what there is.
func (r *Runtime) useCompiled(ctx context.Context, digest string) (*module, error) {
	for {
		m, _, err := r.use(ctx, digest)
		if err != nil || !m.interpreted {
			return m, err
		}
		select {
		case <-m.upgraded:
		default:
			m.unpin()
			select {
			case <-m.upgraded:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		if m.upgradeErr != nil {
			return m, nil
		}
		m.unpin()
	}
}

// ModuleEngine reports which engine makes new instances of digest now:
// EngineInterpreter while its background compile runs (or after it
// failed), EngineCompiler otherwise, "" when it is not compiled in memory.
func (r *Runtime) ModuleEngine(digest string) string {
	m := r.lookup(digest)
	switch {
	case m == nil:
		return ""
	case m.interpreted:
		return EngineInterpreter
	}
	return r.engine
}
