package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// Defaults applied to zero Spec fields.
const (
	DefaultMemoryLimit = 128 << 20 // bytes
	DefaultTimeout     = 30 * time.Second
	DefaultMaxStdout   = 16 << 20 // bytes
)

// SecretsPath is where Spec.Secrets is mounted in the guest.
const SecretsPath = "/var/openfaas/secrets"

// Spec describes one invocation.
type Spec struct {
	Digest string
	Args   []string
	// Env is exactly the guest's environment ("K=V"); the host's is never
	// inherited.
	Env   []string
	Stdin []byte
	// Secrets is mounted read-only at SecretsPath; nil mounts nothing. The
	// guest sees no other file system.
	Secrets fs.FS
	// MemoryLimit caps linear memory in bytes (0 = DefaultMemoryLimit),
	// rounded down to whole 64 KiB pages, at least one page.
	MemoryLimit uint64
	Timeout     time.Duration // 0 = DefaultTimeout
	MaxStdout   int64         // 0 = DefaultMaxStdout
	// Stderr is called, on the guest's goroutine, once per complete stderr
	// line and once for a trailing partial line at exit; lines longer than
	// 64 KiB are split. nil discards stderr.
	Stderr func(line string)
}

// Outcome is the result of an invocation that ran.
type Outcome struct {
	ExitCode uint32
	// Stdout is what the guest wrote (up to MaxStdout), also on error.
	Stdout    []byte
	Duration  time.Duration
	ColdStart bool // this call had to load and compile the module first
	// MemoryDenied reports that a memory.grow was refused by MemoryLimit
	// during the call, even if the guest coped with it.
	MemoryDenied bool
	// Interpreted reports that the instance ran on wazero's interpreter (a
	// large module whose compiler run had not finished yet).
	Interpreted bool
}

// Invoke runs one fresh instance of spec.Digest to completion. On a compile
// miss it loads the module with Config.Load, re-checks its digest and
// compiles it (Outcome.ColdStart). A non-zero exit is not an error but
// Outcome.ExitCode. Errors: ErrTimeout, ErrOutputLimit, ErrMemoryLimit,
// ErrNotFound, ErrDigestMismatch, ErrInvalidModule, ErrBusy, ErrClosed,
// *TrapError, or the caller's context error.
func (r *Runtime) Invoke(ctx context.Context, spec *Spec) (Outcome, error) {
	var out Outcome
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return out, ErrClosed
	}
	m, cold, err := r.use(ctx, spec.Digest)
	out.ColdStart = cold
	if cold {
		r.coldStarts.Add(1)
	}
	if err != nil {
		return out, err
	}
	defer m.unpin()
	limit := memoryLimit(spec.MemoryLimit)
	if uint64(m.minPages)*pageSize > limit {
		return out, fmt.Errorf("%w: module needs %d pages initially, limit is %d", ErrMemoryLimit, m.minPages, limit/pageSize)
	}

	select {
	case r.slots <- struct{}{}:
	default:
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return out, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
		}
	}
	defer func() { <-r.slots }()
	r.invocations.Add(1)
	if m.interpreted {
		r.interpreted.Add(1)
		out.Interpreted = true
	}
	r.active.Add(1)
	defer r.active.Add(-1)

	return r.run(ctx, m, spec, limit, out)
}

func memoryLimit(n uint64) uint64 {
	if n == 0 {
		n = DefaultMemoryLimit
	}
	n = n / pageSize * pageSize
	return min(max(n, pageSize), maxPages*pageSize)
}

// run instantiates and runs one instance; the caller holds a slot.
func (r *Runtime) run(ctx context.Context, m *module, spec *Spec, limit uint64, out Outcome) (Outcome, error) {
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	maxStdout := spec.MaxStdout
	if maxStdout <= 0 {
		maxStdout = DefaultMaxStdout
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	defer cancelTimeout()
	rctx, stop := context.WithCancel(tctx)
	defer stop()

	mem := &linearMemory{pool: r.mem, limit: limit, mod: m}
	rctx = experimental.WithMemoryAllocator(rctx, mem)
	io := r.getIO()
	defer r.putIO(io)
	io.stdin.Reset(spec.Stdin)
	io.stdout.max, io.stdout.stop = maxStdout, stop
	io.stderr.emit = spec.Stderr
	cfg, err := r.moduleConfig(io.cfg, spec)
	if err != nil {
		return out, err
	}

	start := time.Now()
	mod, err := m.rt.InstantiateModule(rctx, m.cm, cfg)
	out.Duration = time.Since(start)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	io.stderr.flush()
	out.Stdout = io.stdout.buf
	out.MemoryDenied = mem.denied.Load()
	return r.classify(ctx, tctx, err, io.stdout.overflow, out.MemoryDenied, out)
}

// ioSet is the stdio of one invocation at a time, with a module config
// that already points at it: recycling the set saves three config clones
// (WithStdin, WithStdout, WithStderr) per invocation.
type ioSet struct {
	stdin  bytes.Reader
	stdout stdoutBuffer
	stderr lineWriter
	cfg    wazero.ModuleConfig
}

func (r *Runtime) getIO() *ioSet {
	if s, ok := r.ios.Get().(*ioSet); ok {
		return s
	}
	s := &ioSet{}
	s.cfg = r.base.WithStdin(&s.stdin).WithStdout(&s.stdout).WithStderr(&s.stderr)
	return s
}

// putIO resets s and recycles it; the stdout bytes now belong to the caller.
func (r *Runtime) putIO(s *ioSet) {
	s.stdin.Reset(nil)
	s.stdout = stdoutBuffer{}
	s.stderr.emit = nil
	s.stderr.partial = s.stderr.partial[:0]
	r.ios.Put(s)
}

// moduleConfig derives the instance config. Every With* clones the config
// including its env key map, so the env goes last (the other clones then
// copy an empty map) and there is one call per setting.
func (r *Runtime) moduleConfig(cfg wazero.ModuleConfig, spec *Spec) (wazero.ModuleConfig, error) {
	if len(spec.Args) > 0 {
		cfg = cfg.WithArgs(spec.Args...)
	}
	if spec.Secrets != nil {
		ro := &sysfs.ReadFS{FS: &sysfs.AdaptFS{FS: spec.Secrets}}
		cfg = cfg.WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(ro, SecretsPath))
	}
	for _, kv := range spec.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("runtime: env entry %q is not K=V", kv)
		}
		cfg = cfg.WithEnv(k, v)
	}
	return cfg, nil
}

// classify maps the instance's result to an Outcome and error. ctx is the
// caller's context, tctx the one carrying the timeout.
func (r *Runtime) classify(ctx, tctx context.Context, err error, overflow, denied bool, out Outcome) (Outcome, error) {
	if overflow {
		return out, ErrOutputLimit
	}
	if err == nil {
		return out, nil
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		code := exit.ExitCode()
		if code == sys.ExitCodeDeadlineExceeded || code == sys.ExitCodeContextCanceled {
			if cerr := ctx.Err(); cerr != nil {
				return out, fmt.Errorf("runtime: invocation stopped: %w", cerr)
			}
			if errors.Is(tctx.Err(), context.DeadlineExceeded) {
				return out, ErrTimeout
			}
		}
		out.ExitCode = code
		return out, nil
	}
	if msg := err.Error(); strings.Contains(msg, "wasm error:") {
		trap := &TrapError{Msg: trapMessage(msg)}
		if denied {
			return out, fmt.Errorf("%w: %w", ErrMemoryLimit, trap)
		}
		return out, trap
	}
	return out, fmt.Errorf("runtime: instantiate: %w", err)
}

// trapMessage keeps wazero's "wasm error: ..." line and drops the stack
// trace that follows it.
func trapMessage(msg string) string {
	if i := strings.Index(msg, "wasm error:"); i >= 0 {
		msg = msg[i:]
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
