package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil"
)

// Bucket names.
const (
	FunctionsBucket  = "sigil_functions"
	SecretsBucket    = "sigil_secrets"
	NamespacesBucket = "sigil_namespaces"
)

// maxCASAttempts bounds the compare-and-set retries of one write.
const maxCASAttempts = 64

// Options configure Open.
type Options struct {
	// Replicas of every bucket; 0 means 1.
	Replicas int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// key identifies a namespaced record (function or secret).
type key struct{ ns, name string }

func (k key) String() string { return k.ns + "." + k.name }

// parseKey splits "<ns>.<name>"; the namespace never holds a dot.
func parseKey(s string) (key, bool) {
	ns, name, ok := strings.Cut(s, ".")
	return key{ns, name}, ok && ns != "" && name != ""
}

// Registry is the watched, cached view of functions, secrets and namespaces.
// It is safe for concurrent use.
type Registry struct {
	log       *slog.Logger
	functions jetstream.KeyValue
	secrets   jetstream.KeyValue
	nss       jetstream.KeyValue

	fnCache  *cache[key, Function]
	secCache *cache[key, Secret]
	nsCache  *cache[string, Namespace]

	subMu sync.Mutex // serialises function events and Subscribe
	subs  []func(Event)

	cancel    context.CancelFunc
	watchers  []jetstream.KeyWatcher
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Open creates the buckets (history 1, file storage, direct get off), starts
// one watcher per bucket, waits until each has delivered its initial
// snapshot, and makes sure the default namespace exists.
func Open(ctx context.Context, js jetstream.JetStream, opt Options) (*Registry, error) {
	r := &Registry{
		log:      opt.Logger,
		fnCache:  newCache[key, Function](),
		secCache: newCache[key, Secret](),
		nsCache:  newCache[string, Namespace](),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	buckets := []struct {
		dst  *jetstream.KeyValue
		name string
		desc string
	}{
		{&r.functions, FunctionsBucket, "sigil functions, key = <ns>.<name>"},
		{&r.secrets, SecretsBucket, "sigil secrets, key = <ns>.<name>"},
		{&r.nss, NamespacesBucket, "sigil namespaces, key = <name>"},
	}
	for _, b := range buckets {
		kv, err := natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
			Bucket: b.name, Description: b.desc, History: 1, Replicas: opt.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		*b.dst = kv
	}

	// Watchers outlive Open's context (the ordered consumer behind a watch is
	// re-created with it after a reconnect), so they get their own.
	wctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	var ready []<-chan struct{}
	for _, w := range []struct {
		kv    jetstream.KeyValue
		apply func(jetstream.KeyValueEntry)
	}{
		{r.nss, r.applyNamespace},
		{r.secrets, r.applySecret},
		{r.functions, r.applyFunction},
	} {
		ch, err := r.watch(wctx, w.kv, w.apply)
		if err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("registry: %w", err)
		}
		ready = append(ready, ch)
	}
	for _, ch := range ready {
		select {
		case <-ch:
		case <-ctx.Done():
			_ = r.Close()
			return nil, fmt.Errorf("registry: waiting for initial snapshot: %w", ctx.Err())
		}
	}

	if _, ok := r.Namespace(DefaultNamespace); !ok {
		err := r.CreateNamespace(ctx, Namespace{Name: DefaultNamespace, Labels: map[string]string{"openfaas": "1"}})
		if err != nil && !errors.Is(err, ErrExists) {
			_ = r.Close()
			return nil, fmt.Errorf("registry: create default namespace: %w", err)
		}
	}
	return r, nil
}

// Close stops the watchers. The cache keeps answering with what it last saw.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		for _, w := range r.watchers {
			_ = w.Stop()
		}
		r.wg.Wait()
	})
	return nil
}

// watch starts a watcher on kv and a goroutine that applies every entry. The
// returned channel is closed once the initial snapshot has been applied.
func (r *Registry) watch(ctx context.Context, kv jetstream.KeyValue, apply func(jetstream.KeyValueEntry)) (<-chan struct{}, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	r.watchers = append(r.watchers, w)
	ready := make(chan struct{})
	r.wg.Go(func() {
		initial := true
		for e := range w.Updates() {
			if e == nil {
				if initial {
					initial = false
					close(ready)
				}
				continue
			}
			apply(e)
		}
		r.log.Debug("registry watcher stopped", slog.String("bucket", kv.Bucket()))
	})
	return ready, nil
}

func isDelete(e jetstream.KeyValueEntry) bool {
	return e.Operation() == jetstream.KeyValueDelete || e.Operation() == jetstream.KeyValuePurge
}

// backoff waits a short, growing, jittered time before a CAS retry.
func backoff(ctx context.Context, attempt int) error {
	d := rand.N(time.Duration(attempt+1) * 200 * time.Microsecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// casConflict reports whether err is a lost compare-and-set.
func casConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

func now() time.Time { return time.Now().UTC() }
