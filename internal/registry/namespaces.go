package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// Namespace returns the cached namespace. Treat it as read-only.
func (r *Registry) Namespace(name string) (Namespace, bool) {
	return r.nsCache.get(name)
}

// Namespaces returns every namespace, sorted by name.
func (r *Registry) Namespaces() []Namespace {
	out := r.nsCache.values(nil)
	slices.SortFunc(out, func(a, b Namespace) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (r *Registry) applyNamespace(e jetstream.KeyValueEntry) {
	if isDelete(e) {
		r.nsCache.del(e.Key(), e.Revision())
		return
	}
	var n Namespace
	if err := json.Unmarshal(e.Value(), &n); err != nil {
		r.log.Error("registry: ignoring undecodable namespace", slog.String("key", e.Key()), slog.Any("err", err))
		return
	}
	n.Name = e.Key()
	r.nsCache.put(e.Key(), n, e.Revision())
}

func cloneNamespace(n Namespace) Namespace {
	n.Labels = maps.Clone(n.Labels)
	n.Annotations = maps.Clone(n.Annotations)
	return n
}

// CreateNamespace stores a new namespace (ErrExists if present).
func (r *Registry) CreateNamespace(ctx context.Context, n Namespace) error {
	if err := ValidateNamespaceName(n.Name); err != nil {
		return err
	}
	n = cloneNamespace(n)
	n.CreatedAt = now()
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode namespace %s: %w", n.Name, err)
	}
	rev, err := r.nss.Create(ctx, n.Name, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("namespace %s: %w", n.Name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", n.Name, err)
	}
	r.nsCache.put(n.Name, n, rev)
	return nil
}

// UpdateNamespace replaces the labels and annotations of an existing
// namespace (ErrNotFound if absent), keeping CreatedAt.
func (r *Registry) UpdateNamespace(ctx context.Context, n Namespace) error {
	if err := ValidateNamespaceName(n.Name); err != nil {
		return err
	}
	n = cloneNamespace(n)
	for attempt := range maxCASAttempts {
		e, err := r.nss.Get(ctx, n.Name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("namespace %s: %w", n.Name, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read namespace %s: %w", n.Name, err)
		}
		var cur Namespace
		if err := json.Unmarshal(e.Value(), &cur); err != nil {
			return fmt.Errorf("decode namespace %s: %w", n.Name, err)
		}
		n.CreatedAt = cur.CreatedAt
		data, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode namespace %s: %w", n.Name, err)
		}
		rev, err := r.nss.Update(ctx, n.Name, data, e.Revision())
		if casConflict(err) {
			if err := backoff(ctx, attempt); err != nil {
				return fmt.Errorf("update namespace %s: %w", n.Name, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("update namespace %s: %w", n.Name, err)
		}
		r.nsCache.put(n.Name, n, rev)
		return nil
	}
	return fmt.Errorf("update namespace %s: %w", n.Name, ErrConflict)
}

// DeleteNamespace removes a namespace (ErrNotFound if absent). The default
// namespace cannot be deleted (ErrInvalid), nor one that still holds
// functions (ErrNotEmpty). Its secrets are deleted with it, so a namespace
// re-created later under the same name does not inherit them.
func (r *Registry) DeleteNamespace(ctx context.Context, name string) error {
	if err := ValidateNamespaceName(name); err != nil {
		return err
	}
	if name == DefaultNamespace {
		return fmt.Errorf("%w: the default namespace %q cannot be deleted", ErrInvalid, name)
	}
	if fns := r.Functions(name); len(fns) > 0 {
		return fmt.Errorf("namespace %s holds %d function(s): %w", name, len(fns), ErrNotEmpty)
	}
	err := deleteKey(ctx, r.nss, "namespace", name, func(rev uint64) { r.nsCache.del(name, rev) })
	if err != nil {
		return err
	}
	for _, s := range r.Secrets(name) {
		if err := r.DeleteSecret(ctx, s.Namespace, s.Name); err != nil && !errors.Is(err, ErrNotFound) {
			r.log.Warn("registry: secret left behind by namespace delete",
				slog.String("namespace", name), slog.String("secret", s.Name), slog.Any("err", err))
		}
	}
	return nil
}
