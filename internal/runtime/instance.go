package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/sigilhq/sigil/internal/abi"
)

// instState is where a pooled instance is in its life; guarded by Pool.mu.
type instState int

const (
	stStarting instState = iota // running _start, no hello yet
	stIdle                      // ready, waiting in Pool.idle
	stBusy                      // serving a request (owned by one Do)
	stGone                      // discarded or dead
)

// instance is one warm guest: _start runs on its own goroutine for the
// instance's whole life, blocked in fd_read between requests.
type instance struct {
	p     *Pool
	ctx   context.Context // the guest's lifetime; cancelling it stops the guest
	kill  context.CancelCauseFunc
	done  chan struct{} // closed once the guest has stopped
	exit  error         // why it stopped; set before done is closed
	mem   *linearMemory
	in    inPipe
	out   frameReader
	errw  lineWriter
	state instState
	reqs  []byte // request frame buffer, reused while the guest consumed it all
}

func (p *Pool) newInstance() *instance {
	ctx, kill := context.WithCancelCause(context.Background())
	inst := &instance{
		p:    p,
		ctx:  ctx,
		kill: kill,
		done: make(chan struct{}),
		mem:  &linearMemory{pool: p.r.mem, limit: p.limit},
	}
	inst.in = inPipe{next: make(chan []byte, 1), dead: ctx.Done()}
	inst.out = frameReader{inst: inst, maxBody: p.maxBody}
	inst.errw.emit = p.spec.Stderr
	return inst
}

// dead reports whether the guest has stopped.
func (inst *instance) dead() bool {
	select {
	case <-inst.done:
		return true
	default:
		return false
	}
}

// run runs the guest until it stops, holding the runtime's close lock for
// reading so Runtime.Close never closes wazero under it, and returns why it
// stopped.
func (inst *instance) run() error {
	p, r := inst.p, inst.p.r
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return ErrClosed
	}
	// Pooled instances live long: they run on compiled code only, so a
	// module still interpreted makes the start wait for its compiler run.
	m, err := r.useCompiled(inst.ctx, p.spec.Digest)
	if err != nil {
		return err
	}
	defer m.unpin()
	if m.interpreted {
		r.interpreted.Add(1)
	}
	if uint64(m.minPages)*pageSize > p.limit {
		return fmt.Errorf("%w: module needs %d pages initially, limit is %d", ErrMemoryLimit, m.minPages, p.limit/pageSize)
	}
	inst.mem.mod = m
	// The guest has the request timeout to say hello (after any compile).
	helloTimer := time.AfterFunc(p.timeout, func() {
		p.mu.Lock()
		starting := inst.state == stStarting
		p.mu.Unlock()
		if starting {
			inst.kill(fmt.Errorf("%w: no hello within %s", ErrProtocol, p.timeout))
		}
	})
	defer helloTimer.Stop()
	cfg, err := r.moduleConfig(r.base.WithStdin(&inst.in).WithStdout(&inst.out).WithStderr(&inst.errw), &Spec{
		Args: p.spec.Args, Env: p.env, Secrets: p.spec.Secrets,
	})
	if err != nil {
		return err
	}
	ctx := experimental.WithMemoryAllocator(inst.ctx, inst.mem)
	mod, err := m.rt.InstantiateModule(ctx, m.cm, cfg)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	inst.errw.flush()
	return inst.classify(err)
}

// classify says why the guest stopped. A kill by the host wins: its cause
// (ErrTimeout, ErrProtocol, ErrOutputLimit, errRetired...) is the reason.
func (inst *instance) classify(err error) error {
	if inst.ctx.Err() != nil {
		return context.Cause(inst.ctx)
	}
	var trap *TrapError
	if err != nil {
		var exit *sys.ExitError
		switch {
		case errors.As(err, &exit):
			err = fmt.Errorf("%w with code %d", ErrInstanceExited, exit.ExitCode())
		case strings.Contains(err.Error(), "wasm error:"):
			trap = &TrapError{Msg: trapMessage(err.Error())}
			err = trap
		default:
			err = fmt.Errorf("runtime: pooled instance: %w", err)
		}
	} else {
		err = fmt.Errorf("%w with code 0", ErrInstanceExited)
	}
	if inst.mem.denied.Load() {
		return fmt.Errorf("%w: %w", ErrMemoryLimit, err)
	}
	return err
}

// inPipe is the guest's stdin: the host hands it one request frame at a
// time and the guest's fd_read blocks until then, or returns EOF once the
// instance is being stopped.
type inPipe struct {
	next   chan []byte
	cur    []byte       // the guest goroutine's
	unread atomic.Int64 // bytes handed over and not yet read
	dead   <-chan struct{}
}

func (p *inPipe) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		select {
		case p.cur = <-p.next:
		case <-p.dead:
			return 0, io.EOF
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	p.unread.Add(-int64(n))
	return n, nil
}

// send hands the guest one request frame.
func (p *inPipe) send(frame []byte) {
	p.unread.Add(int64(len(frame)))
	p.next <- frame
}

// call is one request in flight on an instance. The guest goroutine fills
// it through frameReader; the caller reads it after done is closed.
type call struct {
	done   chan struct{}
	status int
	header http.Header
	body   []byte
	err    error // protocol error, output limit, or ErrAborted

	mu        sync.Mutex // serializes stream callbacks with abandon
	stream    Stream
	streamErr error
	abandoned bool
}

// abandon stops stream callbacks: after it returns, the caller's stream is
// never used again.
func (c *call) abandon() {
	c.mu.Lock()
	c.abandoned = true
	c.mu.Unlock()
}

// frameReader is the guest's stdout: it parses frames as the guest writes
// them, on the guest's goroutine, and fails the instance on anything out of
// order.
type frameReader struct {
	inst    *instance
	maxBody int64
	hdr     [abi.FrameHeaderLen]byte
	nhdr    int
	kind    byte
	need    int    // payload bytes still to come
	small   []byte // payload of a hello, head or end frame
	hello   bool
	call    atomic.Pointer[call] // the request in flight; set by the host before it sends the request
	bodyLen int64
	headOK  bool
	failed  error
}

// maxSmallPayload bounds the payload of hello and end frames.
const maxSmallPayload = 4 << 10

func (f *frameReader) Write(p []byte) (int, error) {
	if f.failed != nil {
		return 0, f.failed
	}
	n := len(p)
	for len(p) > 0 {
		if f.nhdr < abi.FrameHeaderLen {
			c := copy(f.hdr[f.nhdr:], p)
			f.nhdr += c
			p = p[c:]
			if f.nhdr < abi.FrameHeaderLen {
				break
			}
			kind, size := abi.ParseFrameHeader(f.hdr[:])
			if err := f.start(kind, int64(size)); err != nil {
				return n - len(p), f.fail(err)
			}
			if size == 0 {
				if err := f.end(); err != nil {
					return n - len(p), f.fail(err)
				}
			}
			continue
		}
		c := min(len(p), f.need)
		chunk := p[:c]
		p = p[c:]
		f.need -= c
		if f.kind == abi.FrameData {
			f.data(chunk)
		} else {
			f.small = append(f.small, chunk...)
		}
		if f.need == 0 {
			if err := f.end(); err != nil {
				return n - len(p), f.fail(err)
			}
		}
	}
	return n, nil
}

// start checks a frame header against the protocol state.
func (f *frameReader) start(kind byte, size int64) error {
	f.kind, f.need, f.small = kind, int(size), f.small[:0]
	c := f.call.Load()
	switch {
	case kind == abi.FrameHello && !f.hello && c == nil && size <= maxSmallPayload:
	case kind == abi.FrameHead && c != nil && !f.headOK && size <= abi.MaxHeadPayload:
	case kind == abi.FrameData && c != nil && f.headOK:
		if f.bodyLen+size > f.maxBody {
			return ErrOutputLimit
		}
		f.bodyLen += size
	case kind == abi.FrameEnd && c != nil && f.headOK && size <= maxSmallPayload:
	case c == nil:
		return fmt.Errorf("%w: frame %q of %d bytes while no request is in flight", ErrProtocol, kind, size)
	default:
		return fmt.Errorf("%w: unexpected frame %q of %d bytes", ErrProtocol, kind, size)
	}
	return nil
}

// data passes one piece of a data frame on.
func (f *frameReader) data(b []byte) {
	c := f.call.Load()
	if c.stream == nil {
		c.body = append(c.body, b...)
		return
	}
	c.mu.Lock()
	if !c.abandoned && c.streamErr == nil {
		c.streamErr = c.stream.Chunk(b)
	}
	c.mu.Unlock()
}

// end completes the frame in progress.
func (f *frameReader) end() error {
	f.nhdr = 0
	c := f.call.Load()
	switch f.kind {
	case abi.FrameHello:
		if string(f.small) != abi.PooledHello {
			return fmt.Errorf("%w: hello %q, want %q", ErrProtocol, f.small, abi.PooledHello)
		}
		f.hello = true
		f.inst.p.ready(f.inst)
	case abi.FrameHead:
		status, h, err := abi.ParseHead(f.small)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		f.headOK = true
		c.status, c.header = status, h
		if c.stream != nil {
			c.mu.Lock()
			if !c.abandoned {
				c.streamErr = c.stream.Head(status, h)
			}
			c.mu.Unlock()
		}
	case abi.FrameEnd:
		if len(f.small) > 0 {
			c.err = fmt.Errorf("%w: %s", ErrAborted, f.small)
		}
		f.finish()
	}
	return nil
}

// finish hands the call back to the host.
func (f *frameReader) finish() {
	c := f.call.Swap(nil)
	f.headOK, f.bodyLen = false, 0
	close(c.done)
}

// fail records a protocol breach, fails the call in flight and stops the
// instance; the guest's fd_write gets the error.
func (f *frameReader) fail(err error) error {
	f.failed = err
	f.inst.kill(err)
	if c := f.call.Load(); c != nil {
		c.err = err
		f.finish()
	}
	return err
}

// begin prepares the reader for a new request; the host calls it before it
// sends the request.
func (f *frameReader) begin(c *call) { f.call.Store(c) }
