package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// workerPool pulls calls from the durable consumer and runs them.
type workerPool struct {
	q       *Queue
	inv     Invoker
	cc      jetstream.ConsumeContext
	msgs    chan jetstream.Msg
	ctx     context.Context // cancelled when in-flight runs must stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped chan struct{}
}

// Start runs the workers; they invoke through inv. Call Stop to end them.
func (q *Queue) Start(inv Invoker) error {
	if q.workers != nil {
		return errors.New("queue: workers already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &workerPool{q: q, inv: inv, msgs: make(chan jetstream.Msg), ctx: ctx, cancel: cancel, stopped: make(chan struct{})}
	for range q.opts.Workers {
		p.wg.Add(1)
		go p.work()
	}
	pullOpts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(max(q.opts.Workers, 16))}
	if q.opts.PullExpiry > 0 {
		pullOpts = append(pullOpts, jetstream.PullExpiry(q.opts.PullExpiry))
	}
	cc, err := q.cons.Consume(func(m jetstream.Msg) {
		select {
		case p.msgs <- m:
		case <-p.stopped:
			// Stopping: hand it back at once rather than after AckWait.
			_ = m.Nak()
		}
	}, append(pullOpts,
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) {
				q.log.Debug("async consumer", "err", err)
			}
		}))...)
	if err != nil {
		close(p.stopped)
		cancel()
		p.wg.Wait()
		return fmt.Errorf("queue: consume: %w", err)
	}
	p.cc = cc
	q.workers = p
	q.log.Info("async workers started", "workers", q.opts.Workers, "ack_wait", q.opts.AckWait.String())
	return nil
}

// Stop stops pulling new calls and waits for running ones to finish, until
// ctx ends; then it interrupts them and leaves them unacknowledged, so
// JetStream redelivers them. Nothing accepted is dropped.
func (q *Queue) Stop(ctx context.Context) error {
	p := q.workers
	if p == nil {
		return nil
	}
	p.cc.Stop()
	close(p.stopped)
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		p.cancel()
		<-done
		err = fmt.Errorf("queue: stop: %w (running calls left for redelivery)", ctx.Err())
	}
	p.cancel()
	// Acks are fire-and-forget; make sure they left before the bus closes.
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = q.nc.FlushWithContext(fctx)
	return err
}

func (p *workerPool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stopped:
			return
		case m := <-p.msgs:
			p.handle(m)
		}
	}
}

// handle runs one delivered message to its end: ack, nak-with-delay (not
// yet due, or the function is at capacity), retry, or dead letter.
func (p *workerPool) handle(m jetstream.Msg) {
	q := p.q
	j, err := decodeJob(m.Headers(), m.Data())
	if err != nil {
		q.log.Error("async: dropping undecodable message", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	if md, err := m.Metadata(); err == nil {
		j.seq = md.Sequence.Stream
	}
	req := &j.req
	if q.isCanceled(req.CallID) {
		p.finishCanceled(m, j)
		return
	}
	if wait := time.Until(j.notBefore); wait > 0 {
		_ = m.NakWithDelay(wait)
		return
	}
	f, ok := q.opts.Lookup(req.Namespace, req.Name)
	if !ok {
		p.finish(m, j, Result{Status: http.StatusNotFound, Reason: "not_found",
			Body: []byte(fmt.Sprintf("function not found: %s\n", req.Label()))}, true)
		return
	}
	pol := PolicyFor(&f)
	key := req.Namespace + "/" + req.Name
	if !q.acquire(key, req.CallID, pol.MaxConcurrent) {
		// At capacity: try again shortly, without spending an attempt.
		_ = m.NakWithDelay(25*time.Millisecond + rand.N(100*time.Millisecond))
		return
	}
	defer q.release(key, req.CallID)

	stopBeat := p.heartbeat(m)
	defer stopBeat()
	if err := q.loadBody(p.ctx, j); err != nil {
		q.log.Error("async: body of queued call is gone", "call_id", req.CallID, "err", err)
		p.finish(m, j, Result{Status: http.StatusInternalServerError, Reason: "body_missing",
			Body: []byte("the stored request body is missing\n")}, true)
		return
	}
	q.m.attempts.WithLabelValues(req.Label()).Inc()
	res := p.inv.Invoke(p.ctx, req, j.attempt)
	if p.ctx.Err() != nil && res.Reason == "client_gone" {
		_ = m.Nak() // interrupted by shutdown: not an attempt
		return
	}
	if res.Status < 400 {
		q.m.successes.WithLabelValues(req.Label()).Inc()
		p.finish(m, j, res, false)
		return
	}
	q.m.failures.WithLabelValues(req.Label()).Inc()
	if pol.Retriable(res.Status) {
		if j.attempt < pol.MaxAttempts {
			p.retry(m, j, pol, res)
			return
		}
		p.finish(m, j, res, true)
		return
	}
	p.finish(m, j, res, false) // the function's own answer: final
}

// heartbeat tells JetStream the call is still being worked on.
func (p *workerPool) heartbeat(m jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(p.q.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// retry stores the next attempt, due after the backoff, then acks this one.
// A crash between the two runs this attempt again: at least once.
func (p *workerPool) retry(m jetstream.Msg, j *job, pol Policy, res Result) {
	q := p.q
	next := *j
	next.attempt = j.attempt + 1
	delay := pol.Backoff(next.attempt)
	next.notBefore = time.Now().Add(delay)
	if q.isCanceled(j.req.CallID) {
		p.finishCanceled(m, j)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.publish(ctx, &next, fmt.Sprintf("%s:%d:%d", j.req.CallID, next.attempt, j.seq)); err != nil {
		q.log.Error("async: store retry", "call_id", j.req.CallID, "err", err)
		_ = m.NakWithDelay(delay) // JetStream keeps it; same attempt again later
		return
	}
	_ = m.Ack()
	q.log.Info("async call will be retried", "function", j.req.Label(), "call_id", j.req.CallID,
		"status", res.Status, "attempt", j.attempt, "max_attempts", pol.MaxAttempts, "backoff", delay.String())
}

// finish ends a call: dead-letters it when dead, posts the callback, acks.
// A dead letter keeps the stored body (a re-drive needs it); otherwise the
// body is deleted once the call is over.
func (p *workerPool) finish(m jetstream.Msg, j *job, res Result, dead bool) {
	q := p.q
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pol := DefaultPolicy()
	if f, ok := q.opts.Lookup(j.req.Namespace, j.req.Name); ok {
		pol = PolicyFor(&f)
	}
	if dead {
		if err := q.deadLetter(ctx, j, res); err != nil {
			q.log.Error("async: dead-letter", "call_id", j.req.CallID, "err", err)
			_ = m.NakWithDelay(q.opts.AckWait)
			return
		}
		q.m.dead.WithLabelValues(j.req.Label()).Inc()
		q.log.Warn("async call dead-lettered", "function", j.req.Label(), "call_id", j.req.CallID,
			"status", res.Status, "reason", res.Reason, "attempts", j.attempt)
	}
	if j.req.CallbackURL != "" && q.callback(p.ctx, j, res, pol) {
		_ = m.Nak() // shutdown cut the callback short: run again after restart
		return
	}
	q.ackConfirmed(m)
	if !dead && j.bodyObj != "" {
		q.deleteBody(ctx, j.bodyObj)
	}
}

func (p *workerPool) finishCanceled(m jetstream.Msg, j *job) {
	if j.bodyObj != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p.q.deleteBody(ctx, j.bodyObj)
		cancel()
	}
	_ = m.Ack()
}

// acquire takes a run slot of function key (bounded by limit when > 0).
func (q *Queue) acquire(key, callID string, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if limit > 0 && q.active[key] >= limit {
		return false
	}
	q.active[key]++
	q.running[callID]++
	return true
}

func (q *Queue) release(key, callID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.active[key]--; q.active[key] <= 0 {
		delete(q.active, key)
	}
	if q.running[callID]--; q.running[callID] <= 0 {
		delete(q.running, callID)
	}
}

// ackConfirmed acknowledges a finished call and waits for the server to
// confirm it (DoubleAck), retrying briefly: a plain Ack sent while the
// consumer's leader moves is lost, and the call would run again after
// AckWait (reference/scale.md). Still at-least-once when all tries fail.
func (q *Queue) ackConfirmed(m jetstream.Msg) {
	for try := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := m.DoubleAck(ctx)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return
		}
		q.log.Debug("async: ack not confirmed", "try", try+1, "err", err)
	}
}
