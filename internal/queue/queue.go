package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigilhq/sigil/internal/natsutil"
	"github.com/sigilhq/sigil/internal/registry"
)

// Names of the JetStream assets the queue owns.
const (
	StreamName     = "SIGIL_ASYNC"
	DeadStreamName = "SIGIL_ASYNC_DEAD"
	ConsumerName   = "workers"
	BodyBucket     = "async_bodies"

	callSubjects = "sigil.async."      // + ns.name.callid
	deadSubjects = "sigil.deadletter." // + ns.name.callid
)

// Errors of the queue's API.
var (
	ErrNotFound = errors.New("no such queued call")
	ErrRunning  = errors.New("call is running")
	ErrTooLarge = errors.New("request body too large")
)

// Invoker runs one call through the node's invocation path.
type Invoker interface {
	Invoke(ctx context.Context, req *Request, attempt int) Result
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, req *Request, attempt int) Result

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, req *Request, attempt int) Result {
	return f(ctx, req, attempt)
}

// Result is what one run produced.
type Result struct {
	Status   int
	Header   http.Header
	Body     []byte
	Duration time.Duration
	// Reason is set for gateway-made failures: "timeout", "busy",
	// "not_found", "client_gone" (the run was interrupted by shutdown)…
	Reason string
}

// Options configure a Queue. Zero values mean the defaults.
type Options struct {
	Replicas int // JetStream replicas of the queue's assets (default 1)
	// PublishJS, when set, carries the enqueue publishes, so a burst of
	// new calls does not queue behind the workers' pulls and acks on one
	// connection. nil: the JetStream handle given to Open.
	PublishJS jetstream.JetStream
	// Workers is how many calls run at once on this node (default
	// 16·GOMAXPROCS).
	Workers int
	// AckWait is how long a delivered call may go without a heartbeat
	// before JetStream hands it to another worker (default 10s). Running
	// calls heartbeat every AckWait/3; after a crash, calls that were
	// running are redelivered once AckWait has passed.
	AckWait time.Duration
	// MaxAckPending bounds calls delivered and not yet acknowledged,
	// including those waiting out a retry backoff (default 20000).
	MaxAckPending int
	// PullExpiry is how long one pull request of the workers lives (default
	// nats.go's 30s). A worker notices a lost pull (the consumer's leader
	// moved) after two missed heartbeats of PullExpiry/2 each, so a cluster
	// sets a few seconds.
	PullExpiry time.Duration
	// InlineBodyLimit: bodies above it go to the object store (default 512 KiB).
	InlineBodyLimit int
	// MaxBodyBytes is the largest accepted body (default 10 MiB).
	MaxBodyBytes int64
	// Callback retries: attempts (default 5), first delay (default 250ms),
	// cap (default 5s) and per-attempt timeout (default 10s).
	CallbackAttempts int
	CallbackBackoff  time.Duration
	CallbackMaxDelay time.Duration
	CallbackTimeout  time.Duration
	HTTPClient       *http.Client // for callbacks (default: a plain client with CallbackTimeout)

	// Lookup finds the deployed function (for its policy and existence).
	Lookup     func(ns, name string) (registry.Function, bool)
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no metrics registered
}

func (o *Options) defaults() {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Workers <= 0 {
		o.Workers = 16 * runtime.GOMAXPROCS(0)
	}
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.MaxAckPending <= 0 {
		o.MaxAckPending = 20000
	}
	if o.InlineBodyLimit <= 0 {
		o.InlineBodyLimit = 512 << 10
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.CallbackAttempts <= 0 {
		o.CallbackAttempts = 5
	}
	if o.CallbackBackoff <= 0 {
		o.CallbackBackoff = 250 * time.Millisecond
	}
	if o.CallbackMaxDelay <= 0 {
		o.CallbackMaxDelay = 5 * time.Second
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = 10 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.CallbackTimeout}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Queue is the node's async queue.
type Queue struct {
	opts   Options
	log    *slog.Logger
	js     jetstream.JetStream
	pub    jetstream.JetStream // enqueue publishes (Options.PublishJS or js)
	nc     *nats.Conn
	stream jetstream.Stream
	dead   jetstream.Stream
	cons   jetstream.Consumer
	bodies jetstream.ObjectStore
	m      *qmetrics

	mu       sync.Mutex
	running  map[string]int       // call id → runs in progress on this node
	canceled map[string]time.Time // call id → when it was canceled here
	active   map[string]int       // "ns/name" → running calls (for MaxConcurrent)

	workers *workerPool
}

// Open creates (or reuses) the queue's streams, consumer and body bucket.
// Workers are not started: call Start.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Queue, error) {
	opts.defaults()
	if opts.Lookup == nil {
		return nil, errors.New("queue: Options.Lookup is required")
	}
	q := &Queue{opts: opts, log: opts.Logger, js: js, pub: opts.PublishJS, nc: js.Conn(),
		running: map[string]int{}, canceled: map[string]time.Time{}, active: map[string]int{}}
	if q.pub == nil {
		q.pub = js
	}
	var err error
	q.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "accepted async calls, one message per pending attempt",
		Subjects:    []string{callSubjects + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Duplicates:  2 * time.Minute,
		MaxMsgSize:  int32(opts.InlineBodyLimit + 256<<10),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: stream %s: %w", StreamName, err)
	}
	q.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadStreamName,
		Description: "async calls that failed every attempt, kept until re-driven or purged",
		Subjects:    []string{deadSubjects + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Duplicates:  2 * time.Minute,
		MaxMsgSize:  int32(opts.InlineBodyLimit + 256<<10),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: stream %s: %w", DeadStreamName, err)
	}
	q.cons, err = q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "async workers of every node",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: opts.MaxAckPending,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: consumer: %w", err)
	}
	q.bodies, err = natsutil.ObjectStore(ctx, js, jetstream.ObjectStoreConfig{
		Bucket:      BodyBucket,
		Description: "async request bodies too large for a queue message",
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: body bucket: %w", err)
	}
	q.m = newMetrics(q)
	if opts.Registerer != nil {
		if err := q.m.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("queue: metrics: %w", err)
		}
	}
	return q, nil
}

// MaxBodyBytes is the largest body Enqueue accepts.
func (q *Queue) MaxBodyBytes() int64 { return q.opts.MaxBodyBytes }

func callSubject(ns, name, callID string) string {
	return callSubjects + ns + "." + name + "." + callID
}

func deadSubject(ns, name, callID string) string {
	return deadSubjects + ns + "." + name + "." + callID
}

// Enqueue stores req durably and returns its call id once JetStream has
// acknowledged it. A call id seen within the last two minutes is not
// stored twice (a retried POST is idempotent).
func (q *Queue) Enqueue(ctx context.Context, req *Request) (string, error) {
	if req.CallID == "" {
		req.CallID = uuid.NewString()
	}
	if !ValidCallID(req.CallID) {
		return "", fmt.Errorf("enqueue: call id %q: want 1-100 of [A-Za-z0-9_-]", req.CallID)
	}
	if int64(len(req.Body)) > q.opts.MaxBodyBytes {
		return "", fmt.Errorf("enqueue %s: %w (%d > %d bytes)", req.CallID, ErrTooLarge, len(req.Body), q.opts.MaxBodyBytes)
	}
	if req.EnqueuedAt.IsZero() {
		req.EnqueuedAt = time.Now().UTC()
	}
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	j := &job{req: *req, attempt: 1, bodySize: int64(len(req.Body))}
	if len(req.Body) > q.opts.InlineBodyLimit {
		if _, err := q.bodies.PutBytes(ctx, req.CallID, req.Body); err != nil {
			return "", fmt.Errorf("enqueue %s: store body: %w", req.CallID, err)
		}
		j.bodyObj = req.CallID
	}
	if err := q.publish(ctx, j, req.CallID); err != nil {
		return "", fmt.Errorf("enqueue %s: %w", req.CallID, err)
	}
	q.m.enqueued.WithLabelValues(req.Label()).Inc()
	return req.CallID, nil
}

// publish stores j on the work queue under msgID (JetStream de-duplicates
// on it) and waits for the acknowledgement.
func (q *Queue) publish(ctx context.Context, j *job, msgID string) error {
	m, err := j.encode(callSubject(j.req.Namespace, j.req.Name, j.req.CallID))
	if err != nil {
		return err
	}
	// Retried with short attempts until acknowledged: in a cluster a stream
	// leader election leaves a publish unanswered for 4-9 s, and one long
	// attempt begun just before the new leader is up would add its whole
	// timeout to the outage. The message id makes a retry of a publish
	// that was in fact stored a no-op (reference/scale.md).
	deadline := time.Now().Add(publishRetryFor)
	for {
		actx, cancel := context.WithTimeout(ctx, publishAttempt)
		_, err := q.pub.PublishMsg(actx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(StreamName))
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) || !retryablePublish(err) {
			return fmt.Errorf("publish: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Publish retry bounds (see publish).
const (
	publishAttempt  = 2 * time.Second
	publishRetryFor = 20 * time.Second
)

// retryablePublish: no answer (leader election, reconnect), not a refusal.
func retryablePublish(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// Cancel removes a queued call. A call running now is not interrupted
// (ErrRunning); one that already finished, or never existed, is ErrNotFound.
func (q *Queue) Cancel(ctx context.Context, callID string) error {
	if !ValidCallID(callID) {
		return fmt.Errorf("cancel %q: %w", callID, ErrNotFound)
	}
	q.mu.Lock()
	if q.running[callID] > 0 {
		q.mu.Unlock()
		return fmt.Errorf("cancel %s: %w", callID, ErrRunning)
	}
	// Marked first, so a worker that receives it meanwhile drops it.
	q.canceled[callID] = time.Now()
	q.pruneCanceledLocked()
	q.mu.Unlock()

	raw, err := q.stream.GetLastMsgForSubject(ctx, callSubjects+"*.*."+callID)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			q.forgetCancel(callID)
			return fmt.Errorf("cancel %s: %w", callID, ErrNotFound)
		}
		return fmt.Errorf("cancel %s: %w", callID, err)
	}
	if err := q.stream.DeleteMsg(ctx, raw.Sequence); err != nil && !msgGone(err) {
		return fmt.Errorf("cancel %s: %w", callID, err)
	}
	if obj := raw.Header.Get(HdrBodyObject); obj != "" {
		q.deleteBody(ctx, obj)
	}
	q.m.canceled.Inc()
	q.log.Info("async call canceled", "call_id", callID)
	return nil
}

func (q *Queue) forgetCancel(callID string) {
	q.mu.Lock()
	delete(q.canceled, callID)
	q.mu.Unlock()
}

// pruneCanceledLocked forgets cancellations older than the redelivery
// horizon that matters (a message still in flight when it was canceled).
func (q *Queue) pruneCanceledLocked() {
	if len(q.canceled) < 1024 {
		return
	}
	horizon := time.Now().Add(-10 * q.opts.AckWait)
	for id, t := range q.canceled {
		if t.Before(horizon) {
			delete(q.canceled, id)
		}
	}
}

func (q *Queue) isCanceled(callID string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.canceled[callID]
	return ok
}

func (q *Queue) loadBody(ctx context.Context, j *job) error {
	if j.bodyObj == "" {
		return nil
	}
	b, err := q.bodies.GetBytes(ctx, j.bodyObj)
	if err != nil {
		return fmt.Errorf("load body %s: %w", j.bodyObj, err)
	}
	j.req.Body = b
	return nil
}

func (q *Queue) deleteBody(ctx context.Context, name string) {
	if err := q.bodies.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		q.log.Warn("async: delete stored body", "object", name, "err", err)
	}
}

// Depth returns the calls in the queue (waiting, backing off or running)
// and when the oldest of them was stored.
func (q *Queue) Depth(ctx context.Context) (uint64, time.Time, error) {
	info, err := q.stream.Info(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("queue depth: %w", err)
	}
	return info.State.Msgs, info.State.FirstTime, nil
}

// jsErrSequenceNotFound is JetStream's "sequence not found" API error
// (nats-server's JSSequenceNotFoundErrF), which nats.go names no constant for.
const jsErrSequenceNotFound jetstream.ErrorCode = 10043

// msgGone reports a delete of a message that is no longer in the stream:
// a worker took it between the lookup and the delete, saw it marked
// canceled and dropped it — the cancel still holds.
func msgGone(err error) bool {
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jsErrSequenceNotFound || apiErr.ErrorCode == jetstream.JSErrCodeMessageNotFound)
}
