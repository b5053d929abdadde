package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/metrics"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
)

// warmer keeps the runtime's compiled code in step with the registry on this
// node: a function with replicas > 0 has its module compiled (in the
// background, so the first request does not pay for it); when no function
// with replicas > 0 uses a digest any more, its compiled code is evicted
// from memory (the file cache keeps it for a fast way back).
type warmer struct {
	log  *slog.Logger
	rt   *runtime.Runtime
	arts *artifact.Store
	m    *metrics.Metrics

	mu    sync.Mutex
	fns   map[string]registry.Function // "ns/name" → latest record
	sem   chan struct{}                // bounds concurrent background compiles
	wg    sync.WaitGroup
	ctx   context.Context
	close context.CancelFunc
}

func newWarmer(log *slog.Logger, rt *runtime.Runtime, arts *artifact.Store, m *metrics.Metrics) *warmer {
	ctx, cancel := context.WithCancel(context.Background())
	return &warmer{log: log, rt: rt, arts: arts, m: m, fns: map[string]registry.Function{},
		sem: make(chan struct{}, 2), ctx: ctx, close: cancel}
}

func (w *warmer) stop() {
	w.close()
	w.wg.Wait()
}

func (w *warmer) onEvent(ev registry.Event) {
	f := ev.Function
	key := f.Namespace + "/" + f.Name
	label := f.Name + "." + f.Namespace
	w.mu.Lock()
	old, had := w.fns[key]
	if ev.Kind == registry.Delete {
		delete(w.fns, key)
	} else {
		w.fns[key] = f
	}
	w.mu.Unlock()

	if ev.Kind == registry.Delete {
		w.m.Forget(label)
		if had {
			w.evictIfUnused(old.Digest)
		}
		return
	}
	w.m.SetReplicas(label, f.Replicas)
	if had && old.Digest != f.Digest {
		w.evictIfUnused(old.Digest)
	}
	if f.Replicas == 0 {
		w.evictIfUnused(f.Digest)
		return
	}
	if !w.rt.Compiled(f.Digest) {
		w.compile(f.Digest)
	}
}

// evictIfUnused drops compiled code no warm function needs.
func (w *warmer) evictIfUnused(digest string) {
	w.mu.Lock()
	for _, f := range w.fns {
		if f.Digest == digest && f.Replicas > 0 {
			w.mu.Unlock()
			return
		}
	}
	w.mu.Unlock()
	w.rt.Evict(digest)
}

func (w *warmer) compile(digest string) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		select {
		case w.sem <- struct{}{}:
		case <-w.ctx.Done():
			return
		}
		defer func() { <-w.sem }()
		if w.rt.Compiled(digest) {
			return
		}
		start := time.Now()
		wasm, err := w.arts.Get(w.ctx, digest)
		if err == nil {
			err = w.rt.Compile(w.ctx, digest, wasm)
		}
		if err != nil {
			if w.ctx.Err() == nil {
				w.m.Compiled("error", time.Since(start))
				w.log.Error("background compile failed", "digest", digest, "err", err)
			}
			return
		}
		w.m.Compiled("ok", time.Since(start))
		w.log.Debug("module compiled", "digest", digest, "took", time.Since(start).String())
	}()
}
