package runtime

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/sync/singleflight"
)

// Config configures a Runtime. The zero value is usable except for Load,
// without which a compile miss in Invoke returns ErrNotFound.
type Config struct {
	// CacheDir is wazero's file-backed compilation cache directory; compiled
	// machine code survives restarts there. "" keeps the cache in memory only.
	CacheDir string
	// Logger receives runtime events; nil means slog.Default().
	Logger *slog.Logger
	// Load fetches module bytes on a compile miss (the artifact store).
	Load func(ctx context.Context, digest string) ([]byte, error)
	// MaxInstances bounds the instances running at once on this node;
	// 0 means DefaultMaxInstancesPerCPU*GOMAXPROCS. Beyond it, Invoke waits
	// for a slot until its context ends, then returns ErrBusy.
	MaxInstances int
	// InterpretFirstMin is the module size in bytes above which a module
	// that the compiler has not compiled on this node yet (no marker under
	// CacheDir/compiled) is compiled with wazero's interpreter first and
	// served by it while the compiler works in the background. 0 means
	// DefaultInterpretFirstMin; negative turns interpreter-first off.
	InterpretFirstMin int
}

// DefaultMaxInstancesPerCPU is the per-CPU factor of the MaxInstances default.
const DefaultMaxInstancesPerCPU = 64

// Stats is a snapshot of the runtime's counters.
type Stats struct {
	Compiled    int    // modules compiled and held in memory now
	Active      int64  // instances running now
	ColdStarts  uint64 // invocations that had to load and compile first
	Invocations uint64 // invocations that got an instance slot
	// Interpreted is how many of the Compiled modules are served by the
	// interpreter now, their compiler run still in progress.
	Interpreted int
	// InterpretedInvocations counts the Invocations (and pooled instance
	// starts) that ran on the interpreter.
	InterpretedInvocations uint64
}

// Runtime compiles modules once per digest and runs one fresh instance per
// invocation. It is safe for concurrent use.
type Runtime struct {
	log    *slog.Logger
	load   func(ctx context.Context, digest string) ([]byte, error)
	rt     wazero.Runtime // the compiler (or the interpreter where there is none)
	interp *interpState   // interpreter-first for cold large modules; never nil
	cache  wazero.CompilationCache
	engine string
	wasi   map[string]api.FunctionDefinition // exported by wasi_snapshot_preview1
	base   wazero.ModuleConfig               // shared per-instance settings, built once
	slots  chan struct{}
	mem    *memPool
	ios    sync.Pool // of *ioSet

	mu       sync.RWMutex
	compiled map[string]*module
	group    singleflight.Group

	poolsMu     sync.Mutex
	pools       map[string]*Pool
	poolsClosed bool

	closeMu sync.RWMutex // held for reading by running invocations and pooled instances
	closed  bool

	active      atomic.Int64
	coldStarts  atomic.Uint64
	invocations atomic.Uint64
	interpreted atomic.Uint64
}

// New creates a Runtime: one wazero runtime (compiler engine when the
// platform has one, interpreter otherwise) with WASI preview 1 instantiated.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var (
		cache wazero.CompilationCache
		err   error
	)
	if cfg.CacheDir != "" {
		if cache, err = wazero.NewCompilationCacheWithDir(cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("runtime: compilation cache %q: %w", cfg.CacheDir, err)
		}
	} else {
		cache = wazero.NewCompilationCache()
	}
	rt, engine := newWazero(ctx, cache)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		_ = cache.Close(ctx)
		return nil, fmt.Errorf("runtime: instantiate WASI: %w", err)
	}
	wasi := map[string]api.FunctionDefinition{}
	if m := rt.Module(wasi_snapshot_preview1.ModuleName); m != nil {
		wasi = m.ExportedFunctionDefinitions()
	}
	interp := &interpState{}
	if engine == EngineCompiler {
		if interp, err = newInterpreter(ctx, cfg); err != nil {
			_ = rt.Close(ctx)
			_ = cache.Close(ctx)
			return nil, err
		}
	}
	n := cfg.MaxInstances
	if n <= 0 {
		n = DefaultMaxInstancesPerCPU * goruntime.GOMAXPROCS(0)
	}
	r := &Runtime{
		log:    log,
		load:   cfg.Load,
		rt:     rt,
		interp: interp,
		cache:  cache,
		engine: engine,
		wasi:   wasi,
		base: wazero.NewModuleConfig().
			WithName("").
			WithStartFunctions("_start").
			WithRandSource(rand.Reader).
			WithSysWalltime().
			WithSysNanotime().
			WithSysNanosleep(),
		slots:    make(chan struct{}, n),
		mem:      newMemPool(),
		compiled: map[string]*module{},
		pools:    map[string]*Pool{},
	}
	log.Info("wasm runtime ready", "engine", engine, "cache_dir", cfg.CacheDir, "max_instances", n,
		"interpret_first_min", interp.min)
	return r, nil
}

// newWazero prefers the compiler engine. wazero panics when the compiler is
// requested on a platform without one, so that case falls back to the
// interpreter.
func newWazero(ctx context.Context, cache wazero.CompilationCache) (rt wazero.Runtime, engine string) {
	mk := func(c wazero.RuntimeConfig) wazero.Runtime {
		return wazero.NewRuntimeWithConfig(ctx, c.
			WithCompilationCache(cache).
			WithCloseOnContextDone(true).
			WithMemoryLimitPages(maxPages))
	}
	func() {
		defer func() {
			if recover() != nil {
				rt = nil
			}
		}()
		rt = mk(wazero.NewRuntimeConfigCompiler())
		// Force engine use now rather than on the first real compile.
		if cm, err := rt.CompileModule(ctx, emptyModule); err == nil {
			_ = cm.Close(ctx)
		}
	}()
	if rt != nil {
		return rt, EngineCompiler
	}
	return mk(wazero.NewRuntimeConfigInterpreter()), EngineInterpreter
}

// emptyModule is the smallest valid Wasm module (magic + version).
var emptyModule = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Engine reports the runtime's main wazero engine: EngineCompiler, or
// EngineInterpreter on a platform without a compiler. ModuleEngine says
// which one serves a given module now.
func (r *Runtime) Engine() string { return r.engine }

// Stats returns a snapshot of the counters.
func (r *Runtime) Stats() Stats {
	r.mu.RLock()
	n, interpreted := len(r.compiled), 0
	for _, m := range r.compiled {
		if m.interpreted {
			interpreted++
		}
	}
	r.mu.RUnlock()
	return Stats{
		Compiled:               n,
		Active:                 r.active.Load(),
		ColdStarts:             r.coldStarts.Load(),
		Invocations:            r.invocations.Load(),
		Interpreted:            interpreted,
		InterpretedInvocations: r.interpreted.Load(),
	}
}

// Close stops accepting invocations, closes every pool (idle instances stop
// at once, busy ones after their request), waits for running instances to
// finish (or for ctx to end), then releases compiled code and the wazero
// runtime. The file cache stays on disk.
func (r *Runtime) Close(ctx context.Context) error {
	// Pooled instances hold the close lock for their whole life: stop them
	// first (busy ones stop when their request ends).
	r.closePools()
	// Background compiles use the compiler runtime closed below.
	if err := r.stopUpgrades(ctx); err != nil {
		return err
	}
	// Taking the write lock waits for every running invocation (each holds a
	// read lock), so no instance is closed under a running guest; guests are
	// bounded by their own deadline.
	locked := make(chan struct{})
	go func() {
		r.closeMu.Lock()
		close(locked)
	}()
	select {
	case <-locked:
	case <-ctx.Done():
		go func() { <-locked; r.closeMu.Unlock() }()
		return fmt.Errorf("runtime: close: waiting for running instances: %w", ctx.Err())
	}
	defer r.closeMu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.mu.Lock()
	r.compiled = map[string]*module{}
	r.mu.Unlock()
	err := r.rt.Close(ctx)
	if r.interp.rt != nil {
		if ierr := r.interp.rt.Close(ctx); err == nil {
			err = ierr
		}
	}
	if cerr := r.cache.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("runtime: close: %w", err)
	}
	return nil
}
