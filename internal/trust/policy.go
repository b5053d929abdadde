package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil"
)

// Bucket names.
const (
	PolicyBucket     = "sigil_trust_policy"
	SignaturesBucket = "sigil_signatures"
)

// Modes of a namespace policy.
const (
	ModeEnforce = "enforce" // unsigned or untrusted artifacts are refused (403)
	ModeAudit   = "audit"   // they are allowed, logged and counted
)

// DefaultNamespace is the namespace whose policy others inherit until they
// get one of their own.
const DefaultNamespace = "openfaas-fn"

// Errors of the policy store.
var (
	ErrNotFound   = errors.New("trust: not found")
	ErrBadRequest = errors.New("trust: invalid request")
)

// Key is one trusted public key.
type Key struct {
	ID        string    `json:"id"`        // hex SHA-256 of the PKIX DER
	Name      string    `json:"name"`      // a label chosen by whoever added it
	PEM       string    `json:"publicKey"` // PKIX PEM, ECDSA P-256
	CreatedAt time.Time `json:"createdAt"`
}

// Policy is the trust policy of one namespace.
type Policy struct {
	Namespace string `json:"namespace"`
	Mode      string `json:"mode"`
	Keys      []Key  `json:"keys"`
	// InheritedFrom names the namespace whose policy applies because this
	// one has none of its own ("" when it has).
	InheritedFrom string `json:"inheritedFrom,omitempty"`
}

// Options configure Open.
type Options struct {
	Replicas int
	Logger   *slog.Logger
}

// Store keeps policies and signatures in JetStream. Policies are served from
// a cache kept current by a KV watcher, so checks cost no round trip.
type Store struct {
	log      *slog.Logger
	policies jetstream.KeyValue
	sigs     jetstream.KeyValue

	mu    sync.RWMutex
	cache map[string]cached

	cancel context.CancelFunc
	w      jetstream.KeyWatcher
	wg     sync.WaitGroup
	once   sync.Once
}

type cached struct {
	p   Policy
	rev uint64
}

// Open creates the buckets, loads every policy and starts the watcher.
func Open(ctx context.Context, js jetstream.JetStream, opt Options) (*Store, error) {
	s := &Store{log: opt.Logger, cache: map[string]cached{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if s.policies, err = natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: PolicyBucket, Description: "sigil trust policies, key = namespace", History: 1, Replicas: opt.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	if s.sigs, err = natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: SignaturesBucket, Description: "sigil artifact signatures, key = <digest hex>.<key id>", History: 1, Replicas: opt.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	w, err := s.policies.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("trust: watch policies: %w", err)
	}
	s.w = w
	ready := make(chan struct{})
	s.wg.Go(func() {
		initial := true
		for e := range w.Updates() {
			if e == nil {
				if initial {
					initial = false
					close(ready)
				}
				continue
			}
			s.apply(e)
		}
	})
	select {
	case <-ready:
	case <-ctx.Done():
		_ = s.Close()
		return nil, fmt.Errorf("trust: waiting for policies: %w", ctx.Err())
	}
	return s, nil
}

// Close stops the watcher.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.cancel()
		_ = s.w.Stop()
		s.wg.Wait()
	})
	return nil
}

func (s *Store) apply(e jetstream.KeyValueEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.cache[e.Key()]; ok && cur.rev >= e.Revision() {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(s.cache, e.Key())
		return
	}
	var p Policy
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		s.log.Error("trust: bad policy record", "namespace", e.Key(), "err", err)
		return
	}
	s.cache[e.Key()] = cached{p: p, rev: e.Revision()}
}

func (s *Store) own(ns string) (Policy, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cache[ns]
	if !ok {
		return Policy{}, false
	}
	p := c.p
	p.Keys = slices.Clone(p.Keys)
	return p, true
}

// Policy returns the policy that applies to ns: its own, else the default
// namespace's, else enforce with no keys.
func (s *Store) Policy(ns string) Policy {
	if p, ok := s.own(ns); ok {
		return p
	}
	if ns != DefaultNamespace {
		if p, ok := s.own(DefaultNamespace); ok {
			p.Namespace, p.InheritedFrom = ns, DefaultNamespace
			return p
		}
	}
	return Policy{Namespace: ns, Mode: ModeEnforce, Keys: []Key{}}
}

// HasOwnPolicy reports whether ns has a policy record.
func (s *Store) HasOwnPolicy(ns string) bool {
	_, ok := s.own(ns)
	return ok
}

// update applies fn to ns's policy (starting from an empty enforce policy
// when it has none) with optimistic concurrency, and waits until the cache
// shows the result.
func (s *Store) update(ctx context.Context, ns string, fn func(*Policy) error) (Policy, error) {
	for range 32 {
		e, err := s.policies.Get(ctx, ns)
		var p Policy
		var rev uint64
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			p = Policy{Namespace: ns, Mode: ModeEnforce, Keys: []Key{}}
		case err != nil:
			return Policy{}, fmt.Errorf("read policy %s: %w", ns, err)
		default:
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				return Policy{}, fmt.Errorf("policy %s: %w", ns, err)
			}
			rev = e.Revision()
		}
		if err := fn(&p); err != nil {
			return Policy{}, err
		}
		b, _ := json.Marshal(p)
		var newRev uint64
		if rev == 0 {
			newRev, err = s.policies.Create(ctx, ns, b)
		} else {
			newRev, err = s.policies.Update(ctx, ns, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return Policy{}, fmt.Errorf("write policy %s: %w", ns, err)
		}
		s.mu.Lock()
		if cur, ok := s.cache[ns]; !ok || cur.rev < newRev {
			s.cache[ns] = cached{p: p, rev: newRev}
		}
		s.mu.Unlock()
		return p, nil
	}
	return Policy{}, fmt.Errorf("write policy %s: too many concurrent writers", ns)
}

// AddKey trusts pemKey in ns. Adding a key already there renames it.
func (s *Store) AddKey(ctx context.Context, ns, name string, pemKey []byte) (Key, error) {
	pub, err := ParsePublicKey(pemKey)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	id, err := KeyID(pub)
	if err != nil {
		return Key{}, err
	}
	norm, err := EncodePublicKey(pub)
	if err != nil {
		return Key{}, err
	}
	k := Key{ID: id, Name: name, PEM: string(norm), CreatedAt: time.Now().UTC()}
	if k.Name == "" {
		k.Name = ShortID(id)
	}
	_, err = s.update(ctx, ns, func(p *Policy) error {
		for i := range p.Keys {
			if p.Keys[i].ID == id {
				k.CreatedAt = p.Keys[i].CreatedAt
				p.Keys[i] = k
				return nil
			}
		}
		p.Keys = append(p.Keys, k)
		return nil
	})
	return k, err
}

// RemoveKey stops trusting the key whose ID (or a unique prefix of at least
// 8 hex digits) is id in ns.
func (s *Store) RemoveKey(ctx context.Context, ns, id string) (Key, error) {
	var removed Key
	_, err := s.update(ctx, ns, func(p *Policy) error {
		idx := -1
		for i, k := range p.Keys {
			if k.ID == id || (len(id) >= 8 && strings.HasPrefix(k.ID, id)) {
				if idx >= 0 {
					return fmt.Errorf("%w: key id %q is ambiguous", ErrBadRequest, id)
				}
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("%w: key %s in namespace %s", ErrNotFound, id, ns)
		}
		removed = p.Keys[idx]
		p.Keys = slices.Delete(p.Keys, idx, idx+1)
		return nil
	})
	return removed, err
}

// SetMode sets ns's mode to enforce or audit.
func (s *Store) SetMode(ctx context.Context, ns, mode string) (Policy, error) {
	if mode != ModeEnforce && mode != ModeAudit {
		return Policy{}, fmt.Errorf("%w: mode %q (want %s or %s)", ErrBadRequest, mode, ModeEnforce, ModeAudit)
	}
	return s.update(ctx, ns, func(p *Policy) error { p.Mode = mode; return nil })
}

// EnsureDefault gives ns a policy trusting pemKey if it has never had one,
// so a fresh node trusts its developer key while a user who removed that
// key later keeps it removed.
func (s *Store) EnsureDefault(ctx context.Context, ns, name string, pemKey []byte) error {
	if s.HasOwnPolicy(ns) {
		return nil
	}
	_, err := s.AddKey(ctx, ns, name, pemKey)
	return err
}
