package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/testutil"
)

// fakeFns is a registry stand-in: the functions the queue can look up.
type fakeFns struct {
	mu  sync.Mutex
	fns map[string]registry.Function
}

func (f *fakeFns) set(fn registry.Function) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn.Namespace == "" {
		fn.Namespace = "openfaas-fn"
	}
	f.fns[fn.Namespace+"/"+fn.Name] = fn
}

func (f *fakeFns) lookup(ns, name string) (registry.Function, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, ok := f.fns[ns+"/"+name]
	return fn, ok
}

// fakeInvoker answers from a per-test function and records every run.
type fakeInvoker struct {
	mu     sync.Mutex
	runs   []run
	answer func(req *Request, attempt int) Result
	cur    atomic.Int32
	peak   atomic.Int32
	block  chan struct{} // when set, each run waits on it
}

type run struct {
	callID  string
	attempt int
	body    []byte
}

func (f *fakeInvoker) Invoke(ctx context.Context, req *Request, attempt int) Result {
	n := f.cur.Add(1)
	defer f.cur.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Result{Status: 499, Reason: "client_gone"}
		}
	}
	f.mu.Lock()
	f.runs = append(f.runs, run{req.CallID, attempt, append([]byte(nil), req.Body...)})
	f.mu.Unlock()
	if f.answer != nil {
		return f.answer(req, attempt)
	}
	return Result{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: req.Body, Duration: time.Millisecond}
}

func (f *fakeInvoker) count(callID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.runs {
		if r.callID == callID {
			n++
		}
	}
	return n
}

// callbacks records what the callback server received.
type callbacks struct {
	mu    sync.Mutex
	got   map[string][]http.Header
	body  map[string][]byte
	fails atomic.Int32 // answer 503 to this many first requests
}

func newCallbacks(t *testing.T) (*callbacks, *httptest.Server) {
	c := &callbacks{got: map[string][]http.Header{}, body: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if c.fails.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		id := r.Header.Get("X-Call-Id")
		c.mu.Lock()
		c.got[id] = append(c.got[id], r.Header.Clone())
		c.body[id] = b
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return c, srv
}

func (c *callbacks) headers(id string) []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[id]
}

type harness struct {
	q   *Queue
	fns *fakeFns
	inv *fakeInvoker
	reg *prometheus.Registry
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	s := natstest.Start(t)
	h := &harness{fns: &fakeFns{fns: map[string]registry.Function{}}, inv: &fakeInvoker{}, reg: prometheus.NewRegistry()}
	h.fns.set(registry.Function{Name: "echo"})
	opts.Lookup = h.fns.lookup
	opts.Registerer = h.reg
	if opts.Workers == 0 {
		opts.Workers = 4
	}
	if opts.AckWait == 0 {
		opts.AckWait = 2 * time.Second
	}
	opts.CallbackBackoff = time.Millisecond
	opts.CallbackMaxDelay = 5 * time.Millisecond
	q, err := Open(context.Background(), s.JS, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.q = q
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	if err := h.q.Start(h.inv); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) enqueue(t *testing.T, body, callback string) string {
	t.Helper()
	id, err := h.q.Enqueue(context.Background(), &Request{Namespace: "openfaas-fn", Name: "echo",
		Method: "POST", Path: "/", Body: []byte(body), CallbackURL: callback})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, within, what, cond)
}

func TestRunAndCallback(t *testing.T) {
	h := newHarness(t, Options{})
	cb, srv := newCallbacks(t)
	h.start(t)
	id := h.enqueue(t, "hello", srv.URL+"/done")
	eventually(t, 10*time.Second, "callback", func() bool { return len(cb.headers(id)) == 1 })
	got := cb.headers(id)[0]
	want := map[string]string{"X-Call-Id": id, "X-Function-Status": "200", "X-Function-Name": "echo.openfaas-fn",
		"X-Retry": "0", "X-Retry-Max": "4", "Content-Type": "text/plain"}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("callback %s = %q, want %q", k, got.Get(k), v)
		}
	}
	if got.Get("X-Duration-Seconds") == "" {
		t.Error("callback lacks X-Duration-Seconds")
	}
	cb.mu.Lock()
	if string(cb.body[id]) != "hello" {
		t.Errorf("callback body %q", cb.body[id])
	}
	cb.mu.Unlock()
	eventually(t, 5*time.Second, "empty queue", func() bool {
		n, _, err := h.q.Depth(context.Background())
		return err == nil && n == 0
	})
	if v := counterValue(h.q.m.successes.WithLabelValues("echo.openfaas-fn")); v != 1 {
		t.Errorf("successes = %v", v)
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	h := newHarness(t, Options{})
	h.fns.set(registry.Function{Name: "echo", Annotations: map[string]string{
		AnnotationBackoffInitial: "5ms", AnnotationBackoffMax: "20ms", AnnotationMaxAttempts: "4"}})
	h.inv.answer = func(req *Request, attempt int) Result {
		if attempt < 3 {
			return Result{Status: []int{503, 429}[attempt-1]}
		}
		return Result{Status: 201, Body: []byte("ok")}
	}
	cb, srv := newCallbacks(t)
	h.start(t)
	id := h.enqueue(t, "x", srv.URL)
	eventually(t, 10*time.Second, "callback", func() bool { return len(cb.headers(id)) == 1 })
	got := cb.headers(id)[0]
	if got.Get("X-Function-Status") != "201" || got.Get("X-Retry") != "2" || got.Get("X-Retry-Max") != "3" {
		t.Errorf("callback headers %v", got)
	}
	if n := h.inv.count(id); n != 3 {
		t.Errorf("ran %d times, want 3", n)
	}
	if v := counterValue(h.q.m.attempts.WithLabelValues("echo.openfaas-fn")); v != 3 {
		t.Errorf("attempts metric = %v", v)
	}
}

func TestNonRetriableStatusIsFinal(t *testing.T) {
	h := newHarness(t, Options{})
	h.inv.answer = func(*Request, int) Result { return Result{Status: 400, Body: []byte("bad")} }
	cb, srv := newCallbacks(t)
	h.start(t)
	id := h.enqueue(t, "x", srv.URL)
	eventually(t, 10*time.Second, "callback", func() bool { return len(cb.headers(id)) == 1 })
	if got := cb.headers(id)[0].Get("X-Function-Status"); got != "400" {
		t.Errorf("status %s", got)
	}
	if n := h.inv.count(id); n != 1 {
		t.Errorf("ran %d times, want 1", n)
	}
	if list, _ := h.q.DeadLetters(context.Background(), Filter{}, 0); len(list) != 0 {
		t.Errorf("dead letters: %v", list)
	}
}

func TestDeadLetterInspectRedrivePurge(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	h.fns.set(registry.Function{Name: "echo", Annotations: map[string]string{
		AnnotationBackoffInitial: "1ms", AnnotationMaxAttempts: "3", AnnotationRetryCodes: "500, 418"}})
	var healthy atomic.Bool
	h.inv.answer = func(req *Request, attempt int) Result {
		if healthy.Load() {
			return Result{Status: 200, Body: req.Body}
		}
		return Result{Status: 418, Body: []byte("teapot")}
	}
	cb, srv := newCallbacks(t)
	h.start(t)
	id1 := h.enqueue(t, "one", srv.URL)
	id2 := h.enqueue(t, "two", "")
	eventually(t, 10*time.Second, "two dead letters", func() bool {
		l, err := h.q.DeadLetters(ctx, Filter{Namespace: "openfaas-fn", Name: "echo"}, 0)
		return err == nil && len(l) == 2
	})
	if n := h.inv.count(id1); n != 3 {
		t.Errorf("ran %d times, want 3", n)
	}
	// The final failure is reported to the callback too.
	eventually(t, 5*time.Second, "callback", func() bool { return len(cb.headers(id1)) == 1 })
	if got := cb.headers(id1)[0]; got.Get("X-Function-Status") != "418" || got.Get("X-Retry") != "2" {
		t.Errorf("callback %v", got)
	}
	d, err := h.q.DeadLetter(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Request.Body) != "one" || d.Failure.Status != 418 || d.Failure.Attempts != 3 || d.Failure.Response != "teapot" {
		t.Errorf("dead letter %+v", d)
	}
	if _, err := h.q.DeadLetter(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown dead letter: %v", err)
	}
	if l, _ := h.q.DeadLetters(ctx, Filter{Namespace: "other"}, 0); len(l) != 0 {
		t.Errorf("filter by namespace: %d", len(l))
	}

	healthy.Store(true)
	if err := h.q.Redrive(ctx, id1); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "re-driven run", func() bool { return h.inv.count(id1) == 4 })
	eventually(t, 5*time.Second, "second callback", func() bool { return len(cb.headers(id1)) == 2 })
	if got := cb.headers(id1)[1].Get("X-Function-Status"); got != "200" {
		t.Errorf("re-driven status %s", got)
	}
	n, err := h.q.PurgeAll(ctx, Filter{})
	if err != nil || n != 1 {
		t.Fatalf("purge all: %d %v", n, err)
	}
	if l, _ := h.q.DeadLetters(ctx, Filter{}, 0); len(l) != 0 {
		t.Errorf("after purge: %d", len(l))
	}
	if err := h.q.Purge(ctx, id2); !errors.Is(err, ErrNotFound) {
		t.Errorf("purge of purged: %v", err)
	}
	if v := counterValue(h.q.m.dead.WithLabelValues("echo.openfaas-fn")); v != 2 {
		t.Errorf("dead letters metric = %v", v)
	}
}

func TestMissingFunctionIsDeadLettered(t *testing.T) {
	h := newHarness(t, Options{})
	h.start(t)
	id, err := h.q.Enqueue(context.Background(), &Request{Namespace: "openfaas-fn", Name: "ghost"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "dead letter", func() bool {
		d, err := h.q.DeadLetter(context.Background(), id)
		return err == nil && d.Failure.Status == 404 && d.Failure.Reason == "not_found"
	})
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	keep := h.enqueue(t, "keep", "")
	drop := h.enqueue(t, "drop", "")
	if err := h.q.Cancel(ctx, drop); err != nil {
		t.Fatal(err)
	}
	if err := h.q.Cancel(ctx, drop); !errors.Is(err, ErrNotFound) {
		t.Errorf("second cancel: %v", err)
	}
	if err := h.q.Cancel(ctx, "no-such-call"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown cancel: %v", err)
	}
	h.start(t)
	eventually(t, 10*time.Second, "kept call", func() bool { return h.inv.count(keep) == 1 })
	eventually(t, 5*time.Second, "empty queue", func() bool {
		n, _, _ := h.q.Depth(ctx)
		return n == 0
	})
	if n := h.inv.count(drop); n != 0 {
		t.Errorf("canceled call ran %d times", n)
	}
}

func TestCancelRunningIsRefused(t *testing.T) {
	h := newHarness(t, Options{})
	h.inv.block = make(chan struct{})
	h.start(t)
	id := h.enqueue(t, "x", "")
	eventually(t, 10*time.Second, "run started", func() bool { return h.inv.cur.Load() == 1 })
	if err := h.q.Cancel(context.Background(), id); !errors.Is(err, ErrRunning) {
		t.Errorf("cancel while running: %v", err)
	}
	close(h.inv.block)
	eventually(t, 10*time.Second, "run", func() bool { return h.inv.count(id) == 1 })
}

func TestLargeBodyGoesToObjectStore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{InlineBodyLimit: 1 << 10, MaxBodyBytes: 3 << 20})
	big := bytes.Repeat([]byte("0123456789abcdef"), (2<<20)/16) // 2 MiB
	id, err := h.q.Enqueue(ctx, &Request{Namespace: "openfaas-fn", Name: "echo", Body: big})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.q.bodies.GetInfo(ctx, id); err != nil {
		t.Fatalf("body not in the object store: %v", err)
	}
	if _, err := h.q.Enqueue(ctx, &Request{Namespace: "openfaas-fn", Name: "echo", Body: make([]byte, 3<<20+1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
	h.start(t)
	eventually(t, 10*time.Second, "run", func() bool { return h.inv.count(id) == 1 })
	h.inv.mu.Lock()
	if !bytes.Equal(h.inv.runs[0].body, big) {
		t.Errorf("body changed in transit (%d bytes)", len(h.inv.runs[0].body))
	}
	h.inv.mu.Unlock()
	eventually(t, 5*time.Second, "body deleted", func() bool {
		_, err := h.q.bodies.GetInfo(ctx, id)
		return err != nil
	})
}

func TestCallbackRetries(t *testing.T) {
	h := newHarness(t, Options{})
	cb, srv := newCallbacks(t)
	cb.fails.Store(2)
	h.start(t)
	id := h.enqueue(t, "x", srv.URL)
	eventually(t, 10*time.Second, "callback", func() bool { return len(cb.headers(id)) == 1 })
	// The target records the callback before the worker sees its 200 and
	// counts the delivery: wait for the counter rather than racing it.
	eventually(t, 5*time.Second, "delivered counted", func() bool {
		return counterValue(h.q.m.callbacks.WithLabelValues("delivered")) == 1
	})
}

func TestMaxInflightBoundsConcurrency(t *testing.T) {
	h := newHarness(t, Options{Workers: 8})
	h.fns.set(registry.Function{Name: "echo", Replicas: 1, EnvVars: map[string]string{"max_inflight": "2"}})
	h.inv.answer = func(req *Request, _ int) Result {
		time.Sleep(2 * time.Millisecond) // a run that takes a little while
		return Result{Status: 200}
	}
	h.start(t)
	var ids []string
	for i := range 40 {
		ids = append(ids, h.enqueue(t, fmt.Sprint(i), ""))
	}
	eventually(t, 20*time.Second, "all runs", func() bool {
		for _, id := range ids {
			if h.inv.count(id) == 0 {
				return false
			}
		}
		return true
	})
	if p := h.inv.peak.Load(); p > 2 {
		t.Errorf("peak concurrency %d, want ≤ 2", p)
	}
}

func TestDuplicateCallIDIsStoredOnce(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	for range 3 {
		if _, err := h.q.Enqueue(ctx, &Request{CallID: "client-chosen-1", Namespace: "openfaas-fn", Name: "echo"}); err != nil {
			t.Fatal(err)
		}
	}
	n, _, err := h.q.Depth(ctx)
	if err != nil || n != 1 {
		t.Fatalf("depth %d %v, want 1", n, err)
	}
	if _, err := h.q.Enqueue(ctx, &Request{CallID: "bad id!", Namespace: "openfaas-fn", Name: "echo"}); err == nil {
		t.Error("invalid call id accepted")
	}
}

// TestStopLeavesCallsForRedelivery: a call interrupted by shutdown is not
// lost; a new queue on the same store runs it.
func TestStopLeavesCallsForRedelivery(t *testing.T) {
	dir := t.TempDir()
	s := natstest.StartAt(t, dir)
	fns := &fakeFns{fns: map[string]registry.Function{}}
	fns.set(registry.Function{Name: "echo"})
	opts := Options{Lookup: fns.lookup, Workers: 2, AckWait: time.Second}
	q, err := Open(context.Background(), s.JS, opts)
	if err != nil {
		t.Fatal(err)
	}
	inv := &fakeInvoker{block: make(chan struct{})}
	if err := q.Start(inv); err != nil {
		t.Fatal(err)
	}
	id, err := q.Enqueue(context.Background(), &Request{Namespace: "openfaas-fn", Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "run started", func() bool { return inv.cur.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Stop(ctx); err == nil {
		t.Error("Stop should report the interrupted run")
	}
	s.Stop()

	s2 := natstest.StartAt(t, dir)
	q2, err := Open(context.Background(), s2.JS, opts)
	if err != nil {
		t.Fatal(err)
	}
	inv2 := &fakeInvoker{}
	if err := q2.Start(inv2); err != nil {
		t.Fatal(err)
	}
	defer q2.Stop(context.Background())
	eventually(t, 15*time.Second, "redelivered run", func() bool { return inv2.count(id) == 1 })
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestRedriveOfAFailingCallIsDeadLetteredAgain: the runs of a re-driven call
// are new messages, not duplicates of the first round's.
func TestRedriveOfAFailingCallIsDeadLetteredAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	h.fns.set(registry.Function{Name: "echo", Annotations: map[string]string{AnnotationBackoffInitial: "1ms", AnnotationMaxAttempts: "2"}})
	h.inv.answer = func(*Request, int) Result { return Result{Status: 503} }
	h.start(t)
	id := h.enqueue(t, "x", "")
	dead := func() bool { _, err := h.q.DeadLetter(ctx, id); return err == nil }
	eventually(t, 10*time.Second, "dead letter", dead)
	for round := 2; round <= 3; round++ {
		if err := h.q.Redrive(ctx, id); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "re-driven runs", func() bool { return h.inv.count(id) == 2*round })
		eventually(t, 10*time.Second, "dead letter again", dead)
	}
}
