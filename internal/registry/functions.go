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

// Function returns the cached function. The returned value shares its maps
// and slices with the cache: treat it as read-only (Clone before changing).
func (r *Registry) Function(ns, name string) (Function, bool) {
	return r.fnCache.get(key{ns, name})
}

// Functions returns the functions of namespace ns, sorted by name.
func (r *Registry) Functions(ns string) []Function {
	out := r.fnCache.values(func(k key) bool { return k.ns == ns })
	slices.SortFunc(out, func(a, b Function) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// AllFunctions returns every function, sorted by namespace then name.
func (r *Registry) AllFunctions() []Function {
	out := r.fnCache.values(nil)
	slices.SortFunc(out, func(a, b Function) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Subscribe registers fn for every function change. It first replays the
// current functions as Put events (so a subscriber also sees the initial
// snapshot), then receives each change seen by the watch, local or remote,
// in revision order. Calls are serial; fn must not call Subscribe.
func (r *Registry) Subscribe(fn func(Event)) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	for _, f := range r.AllFunctions() {
		fn(Event{Kind: Put, Function: f})
	}
	r.subs = append(r.subs, fn)
}

func (r *Registry) applyFunction(e jetstream.KeyValueEntry) {
	k, ok := parseKey(e.Key())
	if !ok {
		r.log.Warn("registry: ignoring malformed function key", slog.String("key", e.Key()))
		return
	}
	// Holding subMu across the cache update and the dispatch means a
	// concurrent Subscribe replays either before or after this change, never
	// in between.
	r.subMu.Lock()
	defer r.subMu.Unlock()
	var ev Event
	if isDelete(e) {
		last, known := r.fnCache.del(k, e.Revision())
		if !known {
			last = Function{Name: k.name, Namespace: k.ns}
		}
		last.Revision = e.Revision()
		ev = Event{Kind: Delete, Function: last}
	} else {
		f, err := decodeFunction(k, e)
		if err != nil {
			r.log.Error("registry: ignoring undecodable function", slog.String("key", e.Key()), slog.Any("err", err))
			return
		}
		r.fnCache.put(k, f, f.Revision)
		ev = Event{Kind: Put, Function: f}
	}
	for _, fn := range r.subs {
		fn(ev)
	}
}

func decodeFunction(k key, e jetstream.KeyValueEntry) (Function, error) {
	var f Function
	if err := json.Unmarshal(e.Value(), &f); err != nil {
		return Function{}, fmt.Errorf("decode function %s: %w", k, err)
	}
	f.Name, f.Namespace, f.Revision = k.name, k.ns, e.Revision()
	return f, nil
}

func (r *Registry) checkFunctionKey(ns, name string) error {
	if err := ValidateNamespaceName(ns); err != nil {
		return err
	}
	return ValidateFunctionName(name)
}

// requireNamespace fails with ErrInvalid when ns is unknown to this node.
func (r *Registry) requireNamespace(ns string) error {
	if _, ok := r.Namespace(ns); !ok {
		return fmt.Errorf("%w: namespace %q does not exist", ErrInvalid, ns)
	}
	return nil
}

// CreateFunction stores a new function (ErrExists if present). An empty
// Namespace means DefaultNamespace; the namespace must exist (ErrInvalid).
// CreatedAt and UpdatedAt are set here.
func (r *Registry) CreateFunction(ctx context.Context, f Function) (Function, error) {
	f = f.Clone()
	if f.Namespace == "" {
		f.Namespace = DefaultNamespace
	}
	if err := r.checkFunctionKey(f.Namespace, f.Name); err != nil {
		return Function{}, err
	}
	if err := r.requireNamespace(f.Namespace); err != nil {
		return Function{}, err
	}
	f.CreatedAt = now()
	f.UpdatedAt = f.CreatedAt
	k := key{f.Namespace, f.Name}
	data, err := json.Marshal(f)
	if err != nil {
		return Function{}, fmt.Errorf("encode function %s: %w", k, err)
	}
	rev, err := r.functions.Create(ctx, k.String(), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return Function{}, fmt.Errorf("function %s: %w", k, ErrExists)
	}
	if err != nil {
		return Function{}, fmt.Errorf("create function %s: %w", k, err)
	}
	f.Revision = rev
	r.fnCache.put(k, f, rev)
	return f, nil
}

// UpdateFunction replaces the spec of an existing function (ErrNotFound if
// absent). CreatedAt and Replicas are kept from the stored record: scale is
// owned by ScaleFunction, so a redeploy never resets it.
func (r *Registry) UpdateFunction(ctx context.Context, f Function) (Function, error) {
	f = f.Clone()
	if f.Namespace == "" {
		f.Namespace = DefaultNamespace
	}
	if err := r.checkFunctionKey(f.Namespace, f.Name); err != nil {
		return Function{}, err
	}
	return r.ModifyFunction(ctx, f.Namespace, f.Name, func(cur *Function) error {
		replicas := cur.Replicas
		*cur = f.Clone()
		cur.Replicas = replicas
		return nil
	})
}

// ScaleFunction sets the desired replicas of an existing function.
func (r *Registry) ScaleFunction(ctx context.Context, ns, name string, replicas uint64) (Function, error) {
	return r.ModifyFunction(ctx, ns, name, func(cur *Function) error {
		cur.Replicas = replicas
		return nil
	})
}

// ModifyFunction is a read-modify-write of one function with optimistic
// concurrency: it reads the latest record from the KV, calls mutate on a
// private copy and writes it back only if nobody wrote in between, retrying
// otherwise (ErrConflict after many losses). Name, Namespace and CreatedAt
// cannot be changed; UpdatedAt is set. An error from mutate aborts unchanged.
func (r *Registry) ModifyFunction(ctx context.Context, ns, name string, mutate func(*Function) error) (Function, error) {
	if err := r.checkFunctionKey(ns, name); err != nil {
		return Function{}, err
	}
	k := key{ns, name}
	for attempt := range maxCASAttempts {
		e, err := r.functions.Get(ctx, k.String())
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return Function{}, fmt.Errorf("function %s: %w", k, ErrNotFound)
		}
		if err != nil {
			return Function{}, fmt.Errorf("read function %s: %w", k, err)
		}
		f, err := decodeFunction(k, e)
		if err != nil {
			return Function{}, err
		}
		created := f.CreatedAt
		if err := mutate(&f); err != nil {
			return Function{}, err
		}
		f.Name, f.Namespace, f.CreatedAt, f.UpdatedAt = k.name, k.ns, created, now()
		data, err := json.Marshal(f)
		if err != nil {
			return Function{}, fmt.Errorf("encode function %s: %w", k, err)
		}
		rev, err := r.functions.Update(ctx, k.String(), data, e.Revision())
		if casConflict(err) {
			if err := backoff(ctx, attempt); err != nil {
				return Function{}, fmt.Errorf("update function %s: %w", k, err)
			}
			continue
		}
		if err != nil {
			return Function{}, fmt.Errorf("update function %s: %w", k, err)
		}
		f.Revision = rev
		r.fnCache.put(k, f, rev)
		return f, nil
	}
	return Function{}, fmt.Errorf("update function %s: %w", k, ErrConflict)
}

// DeleteFunction removes a function (ErrNotFound if absent).
func (r *Registry) DeleteFunction(ctx context.Context, ns, name string) error {
	if err := r.checkFunctionKey(ns, name); err != nil {
		return err
	}
	k := key{ns, name}
	// The delete marker's revision is not returned; a tombstone at the
	// deleted revision already rejects every older put, and the watch
	// replaces it with the marker.
	return deleteKey(ctx, r.functions, "function", k.String(), func(rev uint64) { r.fnCache.del(k, rev) })
}
