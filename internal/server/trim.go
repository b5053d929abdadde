package server

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Idle trimming. A node runs with a lazy GC (GOGC=400) because fresh
// instances allocate and drop memory at a high rate; the price is a heap
// that may sit at several times its live size after a burst (of requests,
// or of deploys that compile modules). When the node has been quiet for a
// while and the heap has grown since the last trim, return it to the OS.
const (
	trimEvery = 10 * time.Second
	trimQuiet = 20 * time.Second // no invocation for this long
)

// trimmer runs until ctx ends. requests reports the node's cumulative
// invocation count; changes count as activity.
func (n *Node) trimmer(ctx context.Context, requests func() uint64) {
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	last, lastChange := requests(), time.Now()
	var trimmedAt uint64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if r := requests(); r != last {
				last, lastChange = r, now
				continue
			}
			if now.Sub(lastChange) < trimQuiet {
				continue
			}
			metrics.Read(sample)
			mapped := sample[0].Value.Uint64() - sample[1].Value.Uint64()
			if trimmedAt != 0 && mapped < trimmedAt+trimmedAt/5 {
				continue // has not grown by 20% since the last trim
			}
			began := time.Now()
			debug.FreeOSMemory()
			metrics.Read(sample)
			trimmedAt = sample[0].Value.Uint64() - sample[1].Value.Uint64()
			n.log.Debug("idle: returned memory to the OS", "before_mb", mapped>>20, "after_mb", trimmedAt>>20,
				"took", time.Since(began).Round(time.Microsecond).String())
		}
	}
}
