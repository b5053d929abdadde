package registry

import "sync"

// entry is one cached record. A deleted entry is a tombstone: it keeps the
// revision (so an older put delivered late by the watch is ignored) and the
// last value (so delete events can say which digest went away).
type entry[V any] struct {
	val     V
	rev     uint64
	deleted bool
}

// cache is a revision-guarded map. Reads take the read lock only.
type cache[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]entry[V]
}

func newCache[K comparable, V any]() *cache[K, V] {
	return &cache[K, V]{m: make(map[K]entry[V])}
}

// put stores v at rev unless the cache already holds rev or newer.
func (c *cache[K, V]) put(k K, v V, rev uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[k]; ok && cur.rev >= rev {
		return false
	}
	c.m[k] = entry[V]{val: v, rev: rev}
	return true
}

// del turns k into a tombstone at rev unless the cache holds something newer.
// It returns the last value known for k.
func (c *cache[K, V]) del(k K, rev uint64) (last V, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[k]
	if ok && cur.rev > rev {
		return cur.val, true
	}
	c.m[k] = entry[V]{val: cur.val, rev: rev, deleted: true}
	return cur.val, ok
}

// last returns the value stored for k even if it is a tombstone.
func (c *cache[K, V]) last(k K) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[k]
	return e.val, ok
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.deleted {
		var zero V
		return zero, false
	}
	return e.val, true
}

// values returns the live values whose key passes keep (nil keeps all).
func (c *cache[K, V]) values(keep func(K) bool) []V {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []V
	for k, e := range c.m {
		if e.deleted || (keep != nil && !keep(k)) {
			continue
		}
		out = append(out, e.val)
	}
	return out
}
