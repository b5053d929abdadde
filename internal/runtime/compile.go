package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// module is a compiled, validated artifact.
type module struct {
	cm       wazero.CompiledModule
	rt       wazero.Runtime // the runtime that compiled cm: instances are made there
	minPages uint32         // declared initial memory pages (0 when no memory)
	// refs counts the references that keep cm open: one while the module
	// is in Runtime.compiled, one per instantiation in progress (pin). The
	// last unpin closes cm, so a module switched or evicted under a
	// running request is closed after it, never before.
	refs atomic.Int64
	// interpreted marks a module compiled by the interpreter while the
	// compiler works in the background; upgraded is closed when that ends,
	// with upgradeErr set if it failed (the module then stays).
	interpreted bool
	upgraded    chan struct{}
	upgradeErr  error
	// peak is the largest linear memory an instance of this module has
	// used: it decides how the next instance's memory is allocated.
	peak atomic.Uint64
}

const digestPrefix = "sha256:"

// checkDigest verifies that wasm hashes to digest ("sha256:<64 hex>").
func checkDigest(digest string, wasm []byte) error {
	hexPart, ok := strings.CutPrefix(digest, digestPrefix)
	if !ok || len(hexPart) != sha256.Size*2 {
		return fmt.Errorf("%w: malformed digest %q (want sha256:<64 hex>)", ErrDigestMismatch, digest)
	}
	sum := sha256.Sum256(wasm)
	if hex.EncodeToString(sum[:]) != strings.ToLower(hexPart) {
		return fmt.Errorf("%w: module bytes hash to sha256:%x, not %s", ErrDigestMismatch, sum, digest)
	}
	return nil
}

// Compile validates and compiles wasm, which must hash to digest. It is
// idempotent and concurrency-safe: concurrent calls for one digest compile
// once. It rejects bytes that are not Wasm, modules without an exported
// `_start` (not a WASI command) and modules importing anything but
// wasi_snapshot_preview1 functions, all with ErrInvalidModule. A module
// above Config.InterpretFirstMin that the compiler has not compiled on this
// node is validated and made runnable by the interpreter, and Compile
// returns then; the compiler finishes in the background (ModuleEngine).
func (r *Runtime) Compile(ctx context.Context, digest string, wasm []byte) error {
	if err := checkDigest(digest, wasm); err != nil {
		return err
	}
	_, err := r.compile(ctx, digest, wasm)
	return err
}

func (r *Runtime) compile(ctx context.Context, digest string, wasm []byte) (*module, error) {
	if m := r.lookup(digest); m != nil {
		return m, nil
	}
	v, err := r.shared(ctx, "compile:"+digest, func(ctx context.Context) (any, error) {
		if m := r.lookup(digest); m != nil {
			return m, nil
		}
		interpret := r.interpretFirst(digest, wasm)
		rt := r.rt
		if interpret {
			rt = r.interp.rt
		}
		m, err := r.build(ctx, rt, wasm)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", digest, err)
		}
		if interpret {
			m.interpreted, m.upgraded = true, make(chan struct{})
		}
		r.mu.Lock()
		r.compiled[digest] = m
		r.mu.Unlock()
		if interpret {
			// The validation is done and instances can start now; the
			// compiler takes over when it is finished.
			r.startUpgrade(digest, wasm, m)
		}
		r.log.Debug("module compiled", "digest", digest, "size", len(wasm), "min_pages", m.minPages, "interpreted", interpret)
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*module), nil
}

// build compiles and validates one module with rt (the compiler or the
// interpreter); the module it returns holds the reference of
// Runtime.compiled.
func (r *Runtime) build(ctx context.Context, rt wazero.Runtime, wasm []byte) (*module, error) {
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	err = r.validate(cm)
	var minPages uint32
	if err == nil {
		// wazero accepted the bytes, so the parse below only fails on bugs.
		minPages, err = memoryMinPages(wasm)
	}
	if err != nil {
		_ = cm.Close(ctx)
		return nil, fmt.Errorf("%w: %w", ErrInvalidModule, err)
	}
	m := &module{cm: cm, rt: rt, minPages: minPages}
	m.refs.Store(1)
	return m, nil
}

// validate checks that cm is a WASI preview-1 command that only needs what
// this runtime provides.
func (r *Runtime) validate(cm wazero.CompiledModule) error {
	start, ok := cm.ExportedFunctions()["_start"]
	if !ok {
		return errors.New("not a WASI preview-1 command: no exported function \"_start\" (reactor modules are not supported)")
	}
	if len(start.ParamTypes()) != 0 || len(start.ResultTypes()) != 0 {
		return errors.New("exported \"_start\" must take no parameters and return nothing")
	}
	for _, fn := range cm.ImportedFunctions() {
		mod, name, _ := fn.Import()
		if mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("imports %q.%q: only %s functions are provided", mod, name, wasi_snapshot_preview1.ModuleName)
		}
		def, ok := r.wasi[name]
		if !ok {
			return fmt.Errorf("imports %q.%q: not a %s function", mod, name, wasi_snapshot_preview1.ModuleName)
		}
		if !sameSignature(def, fn) {
			return fmt.Errorf("imports %q.%q with the wrong signature", mod, name)
		}
	}
	for _, mem := range cm.ImportedMemories() {
		mod, name, _ := mem.Import()
		return fmt.Errorf("imports memory %q.%q: modules must define their own memory", mod, name)
	}
	return nil
}

func sameSignature(a, b api.FunctionDefinition) bool {
	return string(a.ParamTypes()) == string(b.ParamTypes()) && string(a.ResultTypes()) == string(b.ResultTypes())
}

func (r *Runtime) lookup(digest string) *module {
	r.mu.RLock()
	m := r.compiled[digest]
	r.mu.RUnlock()
	return m
}

// Compiled reports whether the module for digest is compiled in memory now.
func (r *Runtime) Compiled(digest string) bool { return r.lookup(digest) != nil }

// Evict drops the compiled code for digest from memory. Running instances
// are unaffected; the file cache keeps the machine code, so the next
// compile of the same bytes is cheap.
func (r *Runtime) Evict(digest string) {
	r.mu.Lock()
	m := r.compiled[digest]
	delete(r.compiled, digest)
	r.mu.Unlock()
	if m != nil {
		m.unpin()
	}
}

// pin returns the module for digest, if compiled, with a reference that
// keeps its code open until unpin.
func (r *Runtime) pin(digest string) *module {
	r.mu.RLock()
	m := r.compiled[digest]
	if m != nil {
		m.refs.Add(1)
	}
	r.mu.RUnlock()
	return m
}

// unpin drops a reference; the last one closes the compiled code.
func (m *module) unpin() {
	if m.refs.Add(-1) == 0 {
		_ = m.cm.Close(context.Background())
	}
}

// use returns the current module for digest pinned (the caller unpins it
// once its instance is made and has run), loading and compiling it on a
// miss; cold reports whether it had to wait for that.
func (r *Runtime) use(ctx context.Context, digest string) (m *module, cold bool, err error) {
	for {
		if m := r.pin(digest); m != nil {
			return m, cold, nil
		}
		// Compiled and then evicted before the pin: rare, just go again.
		_, c, err := r.resolve(ctx, digest)
		cold = cold || c
		if err != nil {
			return nil, cold, err
		}
	}
}

// resolve returns the compiled module for digest, loading and compiling it
// on a miss; cold reports whether this call had to wait for that.
func (r *Runtime) resolve(ctx context.Context, digest string) (m *module, cold bool, err error) {
	if m := r.lookup(digest); m != nil {
		return m, false, nil
	}
	v, err := r.shared(ctx, "load:"+digest, func(ctx context.Context) (any, error) {
		if m := r.lookup(digest); m != nil {
			return m, nil
		}
		if r.load == nil {
			return nil, fmt.Errorf("%w: %s (no loader configured)", ErrNotFound, digest)
		}
		wasm, err := r.load(ctx, digest)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", digest, err)
		}
		if len(wasm) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, digest)
		}
		if err := checkDigest(digest, wasm); err != nil {
			return nil, fmt.Errorf("load %s: %w", digest, err)
		}
		return r.compile(ctx, digest, wasm)
	})
	if err != nil {
		return nil, true, err
	}
	return v.(*module), true, nil
}

// sharedWorkTimeout bounds a load or compile that runs detached from the
// caller who started it.
const sharedWorkTimeout = 5 * time.Minute

// shared runs fn once per key for all concurrent callers. fn runs on a
// context detached from the first caller's cancellation, so one caller
// giving up does not fail the others (nor waste a half-done compile);
// each caller still stops waiting when its own ctx ends.
func (r *Runtime) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := r.group.DoChan(key, func() (any, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedWorkTimeout)
		defer cancel()
		return fn(dctx)
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
