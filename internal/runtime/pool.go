package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigilhq/sigil/internal/abi"
)

// DefaultMaxPoolInstances caps a pool's instances when PoolSpec.MaxInstances
// is 0 (OpenFaaS's default com.openfaas.scale.max).
const DefaultMaxPoolInstances = 20

// EnvABI is set to "pooled" in every pooled instance's environment, so the
// guest SDK knows to speak the frame protocol; a PoolSpec.Env entry of the
// same name is replaced.
const EnvABI = "SIGIL_ABI"

// Backoff between attempts to start an instance after a failed start.
const (
	startBackoffMin = 100 * time.Millisecond
	startBackoffMax = 5 * time.Second
)

// errRetired is the cause given to instances the pool stops on purpose
// (scale down, pool closed, replaced after a failure).
var errRetired = errors.New("runtime: pooled instance retired")

// PoolSpec describes a pool: one module with a fixed argv, environment and
// secrets (a function update makes a new pool), and its limits.
type PoolSpec struct {
	Digest string
	// Revision identifies the rest of the spec: Runtime.Pool returns the
	// existing pool for a key only when its Revision is the same.
	Revision string
	Args     []string
	Env      []string // "K=V"; EnvABI=pooled is added
	Secrets  fs.FS    // mounted read-only at SecretsPath, read by the guest when it likes
	// MemoryLimit caps each instance's linear memory (0 = DefaultMemoryLimit);
	// an instance refused a grow is discarded after its request.
	MemoryLimit uint64
	// Timeout bounds each request (the instance is discarded when it passes),
	// an instance's start up to its hello, and a request's wait in the queue.
	// 0 = DefaultTimeout.
	Timeout time.Duration
	// MaxStdout caps each response body (0 = DefaultMaxStdout); past it the
	// instance is discarded and Do returns ErrOutputLimit.
	MaxStdout int64
	// Stderr receives the guests' stderr lines (see Spec.Stderr); it is
	// called on the instance's goroutine.
	Stderr func(line string)
	// Instances is the initial number of warm instances; 0 starts none until
	// the first request (which then starts one).
	Instances int
	// MaxInstances caps Resize (0 = DefaultMaxPoolInstances).
	MaxInstances int
	// MaxInflight, when positive, bounds the requests waiting for an
	// instance; beyond it Do fails with a *QueueFullError whose MaxInflight
	// is true. Otherwise MaxQueue bounds them (0 = 16 per instance, at
	// least 64).
	MaxInflight int
	MaxQueue    int
}

// PooledRequest is one request for a pool.
type PooledRequest struct {
	Method     string
	Host       string
	Path       string // escaped, starting with "/"
	RawQuery   string
	RemoteAddr string
	Header     http.Header
	Body       []byte
	// Stream, when set, receives the response as the guest flushes it; the
	// PooledResponse then has no Body.
	Stream Stream
}

// Stream receives a streamed response on the instance's goroutine: Head
// once, then Chunk for each piece of the body as the guest flushes it (each
// piece is worth flushing to the client). An error from either stops the
// calls for this request but not the guest. Both must return promptly: the
// request's timeout cannot interrupt them. Once Do has returned, neither is
// called again.
type Stream interface {
	Head(status int, header http.Header) error
	Chunk(p []byte) error
}

// PooledResponse is a completed response.
type PooledResponse struct {
	Status   int
	Header   http.Header
	Body     []byte // nil when streamed
	Duration time.Duration
}

// PoolStats is a snapshot of a pool.
type PoolStats struct {
	Target        int    // instances wanted (Resize)
	Ready         int    // started instances, idle or busy: the available replicas
	Idle          int    // ready and free
	Busy          int    // serving a request
	Starting      int    // started, not yet ready
	Queued        int    // requests waiting for an instance
	Served        uint64 // responses completed
	Replaced      uint64 // instances discarded after a failure
	StartFailures uint64 // instances that failed before they were ready
}

// Pool is a set of warm instances of one module, each serving one request
// at a time. It is safe for concurrent use.
type Pool struct {
	r            *Runtime
	key          string
	spec         PoolSpec
	env          []string
	limit        uint64
	timeout      time.Duration
	maxBody      int64
	maxInstances int

	mu            sync.Mutex
	closed        bool
	target        int
	starting      map[*instance]struct{}
	busy          int
	idle          []*instance // most recently used last
	waiters       []*waiter
	broken        error       // why the last start failed, until one succeeds
	failures      int         // consecutive start failures
	retry         *time.Timer // pending restart after a failed start
	served        atomic.Uint64
	replaced      uint64
	startFailures uint64
}

type waiter struct{ ch chan acquired }

type acquired struct {
	inst *instance
	err  error
}

// Pool returns the pool for key, creating it (and starting
// spec.Instances instances in the background) when there is none or when
// the existing one has another Revision; that one is then closed, letting
// its requests in flight finish. After Close it returns a closed pool.
func (r *Runtime) Pool(key string, spec PoolSpec) *Pool {
	r.poolsMu.Lock()
	defer r.poolsMu.Unlock()
	old := r.pools[key]
	if old != nil && old.spec.Revision == spec.Revision {
		return old
	}
	p := newPool(r, key, spec)
	if r.poolsClosed {
		p.closed = true
		return p
	}
	if old != nil {
		old.Close()
	}
	r.pools[key] = p
	p.Resize(spec.Instances)
	return p
}

// LookupPool returns the pool for key, if there is one.
func (r *Runtime) LookupPool(key string) (*Pool, bool) {
	r.poolsMu.Lock()
	defer r.poolsMu.Unlock()
	p, ok := r.pools[key]
	return p, ok
}

// ClosePool closes and forgets the pool for key, if there is one.
func (r *Runtime) ClosePool(key string) {
	r.poolsMu.Lock()
	p := r.pools[key]
	delete(r.pools, key)
	r.poolsMu.Unlock()
	if p != nil {
		p.Close()
	}
}

// closePools closes every pool and refuses new ones (Runtime.Close).
func (r *Runtime) closePools() {
	r.poolsMu.Lock()
	r.poolsClosed = true
	pools := r.pools
	r.pools = map[string]*Pool{}
	r.poolsMu.Unlock()
	for _, p := range pools {
		p.Close()
	}
}

func newPool(r *Runtime, key string, spec PoolSpec) *Pool {
	p := &Pool{
		r:            r,
		key:          key,
		spec:         spec,
		limit:        memoryLimit(spec.MemoryLimit),
		timeout:      spec.Timeout,
		maxBody:      spec.MaxStdout,
		maxInstances: spec.MaxInstances,
		starting:     map[*instance]struct{}{},
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.maxBody <= 0 {
		p.maxBody = DefaultMaxStdout
	}
	if p.maxInstances <= 0 {
		p.maxInstances = DefaultMaxPoolInstances
	}
	p.env = make([]string, 0, len(spec.Env)+1)
	for _, kv := range spec.Env {
		if !strings.HasPrefix(kv, EnvABI+"=") {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env, EnvABI+"=pooled")
	return p
}

// Key returns the pool's key.
func (p *Pool) Key() string { return p.key }

// Revision returns the spec's Revision.
func (p *Pool) Revision() string { return p.spec.Revision }

// Do serves req on a free instance, waiting in the pool's queue for one
// (at most the spec's Timeout) when all are busy. A pool at zero instances
// starts one. Errors: *QueueFullError (matches ErrQueueFull and ErrBusy),
// ErrBusy after waiting in vain, ErrTimeout, ErrOutputLimit, ErrMemoryLimit,
// *TrapError, ErrInstanceExited, ErrProtocol, ErrAborted, ErrClosed, a
// failed start (wrapping its cause: ErrNotFound, ErrInvalidModule...), or
// the caller's context error. The instance is discarded and replaced after
// every error except the queue's, ErrAborted and the caller giving up (the
// instance then finishes the request unobserved).
func (p *Pool) Do(ctx context.Context, req *PooledRequest) (*PooledResponse, error) {
	inst, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	c := &call{done: make(chan struct{}), stream: req.Stream}
	inst.reqs = abi.AppendRequest(inst.reqs[:0], &abi.PooledRequest{
		Method: req.Method, Host: req.Host, Path: req.Path, RawQuery: req.RawQuery,
		RemoteAddr: req.RemoteAddr, Header: req.Header, Body: req.Body,
	})
	inst.out.begin(c)
	start := time.Now()
	inst.in.send(inst.reqs)
	timer := time.NewTimer(p.timeout)
	healthy, cause, gaveUp := p.wait(ctx, inst, c, timer)
	c.abandon()
	if gaveUp {
		// The guest is mid-request: let it finish unobserved rather than
		// pay for a new instance, still bounded by the timeout.
		go func() {
			healthy, cause, _ := p.wait(context.Background(), inst, c, timer)
			timer.Stop()
			p.release(inst, healthy, cause)
		}()
		return nil, fmt.Errorf("runtime: pooled request abandoned: %w", ctx.Err())
	}
	timer.Stop()
	p.release(inst, healthy, cause)
	if cause != nil {
		return nil, cause
	}
	p.served.Add(1)
	return &PooledResponse{Status: c.status, Header: c.header, Body: c.body, Duration: time.Since(start)}, nil
}

// wait waits for the call to complete, the guest to stop, the timeout or
// the caller to give up, and says whether the instance may serve again and
// what went wrong.
func (p *Pool) wait(ctx context.Context, inst *instance, c *call, timer *time.Timer) (healthy bool, cause error, gaveUp bool) {
	select {
	case <-c.done:
		switch {
		case c.err == nil:
		case errors.Is(c.err, ErrAborted):
			return inst.in.unread.Load() == 0, c.err, false
		default:
			return false, c.err, false
		}
		if inst.in.unread.Load() != 0 {
			// The response is whole, but the guest did not read all of its
			// request: the next one would start mid-frame.
			return false, nil, false
		}
		return !inst.mem.denied.Load(), nil, false
	case <-inst.done:
		return false, inst.exit, false
	case <-timer.C:
		return false, ErrTimeout, false
	case <-ctx.Done():
		return false, nil, true
	}
}

// acquire takes a free instance, or waits in the queue for one.
func (p *Pool) acquire(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		inst.state = stBusy
		p.busy++
		p.mu.Unlock()
		return inst, nil
	}
	if p.target == 0 {
		p.target = 1 // scale from zero
	}
	p.fillLocked()
	if len(p.starting) == 0 && p.busy == 0 && p.broken != nil {
		err := p.broken
		p.mu.Unlock()
		return nil, err
	}
	if limit, inflight := p.queueLimit(); len(p.waiters) >= limit {
		p.mu.Unlock()
		return nil, &QueueFullError{Limit: limit, MaxInflight: inflight}
	}
	w := &waiter{ch: make(chan acquired, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	var err error
	for err == nil {
		select {
		case a := <-w.ch:
			return a.inst, a.err
		case <-ctx.Done():
			err = fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
		case <-timer.C:
			p.mu.Lock()
			cold := len(p.idle)+p.busy == 0 && len(p.starting) > 0
			p.mu.Unlock()
			if cold {
				// Nothing is ready yet: the start itself is bounded (by the
				// timeout for its hello) and ends this wait either way.
				timer.Reset(p.timeout)
				continue
			}
			err = fmt.Errorf("%w: no pooled instance was free within %s", ErrBusy, p.timeout)
		}
	}
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.mu.Unlock()
			return nil, err
		}
	}
	p.mu.Unlock()
	// Handed an instance (or an error) just as we gave up: give the
	// instance back; an error (a failed start) says more than ours.
	a := <-w.ch
	if a.inst != nil {
		p.release(a.inst, true, nil)
	} else if a.err != nil {
		err = a.err
	}
	return nil, err
}

// queueLimit is how many requests may wait.
func (p *Pool) queueLimit() (limit int, inflight bool) {
	switch {
	case p.spec.MaxInflight > 0:
		return p.spec.MaxInflight, true
	case p.spec.MaxQueue > 0:
		return p.spec.MaxQueue, false
	}
	// Generous by default: a burst of clients should wait a few
	// milliseconds for an instance rather than be refused; each wait is
	// still bounded by the request timeout.
	return max(16*p.target, 64), false
}

// release takes an instance back from a request: healthy ones serve the
// next waiter or go idle (unless the pool shrank); the others are stopped
// with cause and replaced.
func (p *Pool) release(inst *instance, healthy bool, cause error) {
	p.mu.Lock()
	p.busy--
	if healthy && !inst.dead() && !p.closed && len(p.starting)+len(p.idle)+p.busy < p.target {
		p.handoffLocked(inst)
		p.mu.Unlock()
		return
	}
	inst.state = stGone
	if !healthy {
		p.replaced++
	}
	if healthy || cause == nil {
		cause = errRetired
	}
	p.fillLocked()
	p.mu.Unlock()
	inst.kill(cause)
}

// handoffLocked gives a ready instance to the first waiter, else makes it
// idle.
func (p *Pool) handoffLocked(inst *instance) {
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		inst.state = stBusy
		p.busy++
		w.ch <- acquired{inst: inst}
		return
	}
	inst.state = stIdle
	p.idle = append(p.idle, inst)
}

// fillLocked starts instances up to the target, unless a restart is
// pending after a failed start.
func (p *Pool) fillLocked() {
	for !p.closed && p.retry == nil && len(p.starting)+len(p.idle)+p.busy < p.target {
		inst := p.newInstance()
		p.starting[inst] = struct{}{}
		go p.run(inst)
	}
}

func (p *Pool) run(inst *instance) {
	inst.exit = inst.run()
	close(inst.done)
	p.exited(inst)
}

// ready is called, on the guest's goroutine, when an instance sent its
// hello.
func (p *Pool) ready(inst *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if inst.state != stStarting {
		return
	}
	delete(p.starting, inst)
	p.broken, p.failures = nil, 0
	if p.closed || len(p.starting)+len(p.idle)+p.busy >= p.target {
		inst.state = stGone
		inst.kill(errRetired)
		return
	}
	p.handoffLocked(inst)
}

// exited is called once an instance's guest has stopped.
func (p *Pool) exited(inst *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch inst.state {
	case stBusy:
		return // its request sees inst.done and releases it
	case stIdle:
		for i, x := range p.idle {
			if x == inst {
				p.idle = append(p.idle[:i], p.idle[i+1:]...)
				break
			}
		}
		p.replaced++
	case stStarting:
		delete(p.starting, inst)
		if !p.closed && !errors.Is(inst.exit, errRetired) {
			p.startFailed(inst.exit)
		}
	}
	inst.state = stGone
	p.fillLocked()
}

// startFailed records a failed start, fails the waiting requests when no
// instance can serve them, and schedules the next attempt with backoff.
func (p *Pool) startFailed(err error) {
	p.startFailures++
	p.failures++
	p.broken = fmt.Errorf("runtime: pooled instance of %s did not start: %w", p.key, err)
	p.r.log.Warn("pooled instance did not start", "pool", p.key, "err", err, "attempt", p.failures)
	if len(p.starting) == 0 && len(p.idle)+p.busy == 0 {
		for _, w := range p.waiters {
			w.ch <- acquired{err: p.broken}
		}
		p.waiters = nil
	}
	if p.retry == nil {
		backoff := min(startBackoffMin<<min(p.failures-1, 10), startBackoffMax)
		p.retry = time.AfterFunc(backoff, func() {
			p.mu.Lock()
			p.retry = nil
			p.fillLocked()
			p.mu.Unlock()
		})
	}
}

// Resize sets the number of warm instances, capped at the spec's
// MaxInstances: it starts the missing ones in the background and stops
// surplus idle ones now (busy ones when their request ends). Resize(0)
// frees every instance; the next request starts one again.
func (p *Pool) Resize(n int) {
	n = min(max(n, 0), p.maxInstances)
	p.mu.Lock()
	p.target = n
	var retire []*instance
	for len(p.starting)+len(p.idle)+p.busy > p.target && len(p.idle) > 0 {
		inst := p.idle[0] // the least recently used
		p.idle = p.idle[1:]
		inst.state = stGone
		retire = append(retire, inst)
	}
	p.fillLocked()
	p.mu.Unlock()
	for _, inst := range retire {
		inst.kill(errRetired)
	}
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{
		Target:        p.target,
		Ready:         len(p.idle) + p.busy,
		Idle:          len(p.idle),
		Busy:          p.busy,
		Starting:      len(p.starting),
		Queued:        len(p.waiters),
		Served:        p.served.Load(),
		Replaced:      p.replaced,
		StartFailures: p.startFailures,
	}
}

// Close stops the pool: waiting requests fail with ErrClosed, idle and
// starting instances stop now, busy ones when their request ends. Later
// calls to Do fail with ErrClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.retry != nil {
		p.retry.Stop()
		p.retry = nil
	}
	var stop []*instance
	for _, inst := range p.idle {
		inst.state = stGone
		stop = append(stop, inst)
	}
	p.idle = nil
	for inst := range p.starting {
		stop = append(stop, inst) // exited() takes them out of starting
	}
	for _, w := range p.waiters {
		w.ch <- acquired{err: ErrClosed}
	}
	p.waiters = nil
	p.mu.Unlock()
	for _, inst := range stop {
		inst.kill(errRetired)
	}
}
