package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil"
)

// DefaultTTL is how long a lease outlives its holder's last refresh.
const DefaultTTL = 5 * time.Second

// Bucket creates (or opens) the KV bucket holding leases of duration ttl.
// Every lease in one bucket shares that TTL (it is the stream's MaxAge).
func Bucket(ctx context.Context, js jetstream.JetStream, name string, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	kv, err := natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: name, Description: "sigil leases (single-writer election)", History: 1, TTL: ttl, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	return kv, nil
}

// Options configure a Lease.
type Options struct {
	KV     jetstream.KeyValue // from Bucket
	Key    string             // what is being led, e.g. "tlog-writer"
	Holder string             // this node's unique name
	TTL    time.Duration      // the bucket's TTL (default DefaultTTL)
	Logger *slog.Logger
}

// Lease campaigns for one key. Run it with Run; Holder reads who leads.
type Lease struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	leading bool
}

// New returns a lease campaigner; nothing happens until Run.
func New(o Options) *Lease {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Lease{o: o, log: o.Logger.With("lease", o.Key)}
}

// Leading reports whether this node holds the lease now.
func (l *Lease) Leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading
}

// Holder returns the current holder's name ("" when nobody holds it).
func (l *Lease) Holder(ctx context.Context) (string, error) {
	e, err := l.o.KV.Get(ctx, l.o.Key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", l.o.Key, err)
	}
	return string(e.Value()), nil
}

// Run campaigns until ctx ends. Whenever this node takes the lease it calls
// lead with a context that is cancelled as soon as the lease may be lost
// (a refresh failed, or no refresh succeeded within TTL/2); lead must return
// promptly after that. On ctx's end a held lease is released at once, so a
// successor need not wait for the TTL.
func (l *Lease) Run(ctx context.Context, lead func(ctx context.Context)) {
	poll := l.o.TTL / 5
	for {
		rev, err := l.o.KV.Create(ctx, l.o.Key, []byte(l.o.Holder))
		if err == nil {
			l.hold(ctx, rev, lead)
		} else if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			l.log.Debug("lease: campaign", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

// hold runs lead while refreshing the lease every TTL/5; it returns when the
// lease is lost or ctx ends (then it releases the lease).
func (l *Lease) hold(ctx context.Context, rev uint64, lead func(ctx context.Context)) {
	l.log.Info("lease taken", "holder", l.o.Holder, "revision", rev)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	l.setLeading(true)
	go func() {
		defer close(done)
		lead(lctx)
	}()
	defer func() {
		cancel()
		<-done
		l.setLeading(false)
	}()
	every := l.o.TTL / 5
	lastOK := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Release: a revision-guarded delete, so we never delete a
			// successor's lease. Bounded: shutdown must not hang on it.
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			cancel()
			<-done
			if err := l.o.KV.Delete(dctx, l.o.Key, jetstream.LastRevision(rev)); err != nil {
				l.log.Debug("lease: release", "err", err)
			} else {
				l.log.Info("lease released", "holder", l.o.Holder)
			}
			dcancel()
			return
		case <-done:
			// lead gave up by itself: hand the lease on at once.
			dctx, dcancel := context.WithTimeout(ctx, time.Second)
			_ = l.o.KV.Delete(dctx, l.o.Key, jetstream.LastRevision(rev))
			dcancel()
			return
		case <-t.C:
		}
		// Every refresh must finish before half the TTL has passed since the
		// last good one, or this holder stops: the key outlives it by at
		// least TTL/2, the margin against a successor acting too early.
		rctx, rcancel := context.WithDeadline(ctx, lastOK.Add(l.o.TTL/2))
		started := time.Now()
		nrev, err := l.o.KV.Update(rctx, l.o.Key, []byte(l.o.Holder), rev)
		rcancel()
		if err != nil {
			if ctx.Err() != nil {
				continue // the release branch runs next
			}
			if time.Since(lastOK) < l.o.TTL/2 && !errors.Is(err, jetstream.ErrKeyExists) {
				l.log.Debug("lease: refresh failed, retrying", "err", err)
				continue
			}
			l.log.Warn("lease lost", "holder", l.o.Holder, "err", err)
			return
		}
		rev, lastOK = nrev, started
	}
}

func (l *Lease) setLeading(v bool) {
	l.mu.Lock()
	l.leading = v
	l.mu.Unlock()
}
