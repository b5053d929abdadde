package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// Secret returns the cached secret, value included. Treat it as read-only.
func (r *Registry) Secret(ns, name string) (Secret, bool) {
	return r.secCache.get(key{ns, name})
}

// Secrets returns the secrets of namespace ns, sorted by name, values
// included (the api strips them).
func (r *Registry) Secrets(ns string) []Secret {
	out := r.secCache.values(func(k key) bool { return k.ns == ns })
	slices.SortFunc(out, func(a, b Secret) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (r *Registry) applySecret(e jetstream.KeyValueEntry) {
	k, ok := parseKey(e.Key())
	if !ok {
		r.log.Warn("registry: ignoring malformed secret key", slog.String("key", e.Key()))
		return
	}
	if isDelete(e) {
		r.secCache.del(k, e.Revision())
		return
	}
	s, err := decodeSecret(k, e.Value())
	if err != nil {
		r.log.Error("registry: ignoring undecodable secret", slog.String("key", e.Key()), slog.Any("err", err))
		return
	}
	r.secCache.put(k, s, e.Revision())
}

func decodeSecret(k key, b []byte) (Secret, error) {
	var s Secret
	if err := json.Unmarshal(b, &s); err != nil {
		return Secret{}, fmt.Errorf("decode secret %s: %w", k, err)
	}
	s.Name, s.Namespace = k.name, k.ns
	return s, nil
}

func secretKey(s *Secret) (key, error) {
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if err := ValidateNamespaceName(s.Namespace); err != nil {
		return key{}, err
	}
	if err := ValidateSecretName(s.Name); err != nil {
		return key{}, err
	}
	return key{s.Namespace, s.Name}, nil
}

// CreateSecret stores a new secret (ErrExists if present). An empty Namespace
// means DefaultNamespace, which must exist (ErrInvalid).
func (r *Registry) CreateSecret(ctx context.Context, s Secret) error {
	k, err := secretKey(&s)
	if err != nil {
		return err
	}
	if err := r.requireNamespace(k.ns); err != nil {
		return err
	}
	s.Value = slices.Clone(s.Value)
	s.CreatedAt = now()
	s.UpdatedAt = s.CreatedAt
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode secret %s: %w", k, err)
	}
	rev, err := r.secrets.Create(ctx, k.String(), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("secret %s: %w", k, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create secret %s: %w", k, err)
	}
	r.secCache.put(k, s, rev)
	return nil
}

// UpdateSecret replaces the value of an existing secret (ErrNotFound if
// absent), keeping CreatedAt.
func (r *Registry) UpdateSecret(ctx context.Context, s Secret) error {
	k, err := secretKey(&s)
	if err != nil {
		return err
	}
	s.Value = slices.Clone(s.Value)
	for attempt := range maxCASAttempts {
		e, err := r.secrets.Get(ctx, k.String())
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("secret %s: %w", k, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read secret %s: %w", k, err)
		}
		cur, err := decodeSecret(k, e.Value())
		if err != nil {
			return err
		}
		s.CreatedAt, s.UpdatedAt = cur.CreatedAt, now()
		data, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode secret %s: %w", k, err)
		}
		rev, err := r.secrets.Update(ctx, k.String(), data, e.Revision())
		if casConflict(err) {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("update secret %s: %w", k, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("update secret %s: %w", k, err)
		}
		r.secCache.put(k, s, rev)
		return nil
	}
	return fmt.Errorf("update secret %s: %w", k, ErrConflict)
}

// DeleteSecret removes a secret (ErrNotFound if absent).
func (r *Registry) DeleteSecret(ctx context.Context, ns, name string) error {
	s := Secret{Namespace: ns, Name: name}
	k, err := secretKey(&s)
	if err != nil {
		return err
	}
	return deleteKey(ctx, r.secrets, "secret", k.String(), func(rev uint64) { r.secCache.del(k, rev) })
}

// deleteKey deletes kv key only if it still holds the revision just read,
// then calls done with that revision.
func deleteKey(ctx context.Context, kv jetstream.KeyValue, kind, k string, done func(rev uint64)) error {
	for attempt := range maxCASAttempts {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("%s %s: %w", kind, k, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read %s %s: %w", kind, k, err)
		}
		err = kv.Delete(ctx, k, jetstream.LastRevision(e.Revision()))
		if casConflict(err) {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("delete %s %s: %w", kind, k, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("delete %s %s: %w", kind, k, err)
		}
		done(e.Revision())
		return nil
	}
	return fmt.Errorf("delete %s %s: %w", kind, k, ErrConflict)
}
