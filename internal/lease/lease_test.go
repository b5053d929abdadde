package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
	"github.com/sigilhq/sigil/internal/testutil"
)

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, within, what, cond)
}

// TestOneHolderAndHandover: of three campaigners exactly one leads; when it
// stops (release) another takes over well within the TTL, and never do two
// lead at once.
func TestOneHolderAndHandover(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	const ttl = time.Second
	kv, err := Bucket(ctx, srv.JS, "t_lease", 1, ttl)
	if err != nil {
		t.Fatal(err)
	}
	var (
		now     atomic.Int32 // leaders right now
		maxSeen atomic.Int32
		wg      sync.WaitGroup
	)
	names := []string{"a", "b", "c"}
	leases := make([]*Lease, 3)
	cancels := make([]context.CancelFunc, 3)
	for i, name := range names {
		leases[i] = New(Options{KV: kv, Key: "w", Holder: name, TTL: ttl})
		cctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			leases[i].Run(cctx, func(lctx context.Context) {
				v := now.Add(1)
				if v > maxSeen.Load() {
					maxSeen.Store(v)
				}
				<-lctx.Done()
				now.Add(-1)
			})
		}()
	}
	t.Cleanup(func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	})
	leader := func() int {
		for i, l := range leases {
			if l.Leading() {
				return i
			}
		}
		return -1
	}
	waitFor(t, 5*time.Second, "a leader", func() bool { return leader() >= 0 })
	first := leader()
	h, err := leases[(first+1)%3].Holder(ctx)
	if err != nil || h != names[first] {
		t.Fatalf("Holder = %q, %v; want %q", h, err, names[first])
	}
	// Held across several TTLs: refreshes work.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if leader() != first {
			t.Fatalf("leadership moved from %s without a fault", names[first])
		}
		time.Sleep(50 * time.Millisecond)
	}
	began := time.Now()
	cancels[first]()
	waitFor(t, 3*time.Second, "a new leader", func() bool { l := leader(); return l >= 0 && l != first })
	if d := time.Since(began); d > ttl {
		t.Errorf("handover after release took %s, want < TTL %s", d, ttl)
	}
	if maxSeen.Load() > 1 {
		t.Fatalf("%d leaders at once", maxSeen.Load())
	}
}

// TestExpiryAfterCrash: a holder that stops refreshing (simulated by
// deleting nothing and just vanishing) loses the lease after the TTL.
func TestExpiryAfterCrash(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	const ttl = time.Second
	kv, err := Bucket(ctx, srv.JS, "t_lease2", 1, ttl)
	if err != nil {
		t.Fatal(err)
	}
	// A dead holder: its key exists, nobody refreshes it.
	if _, err := kv.Create(ctx, "w", []byte("dead")); err != nil {
		t.Fatal(err)
	}
	l := New(Options{KV: kv, Key: "w", Holder: "alive", TTL: ttl})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); l.Run(cctx, func(c context.Context) { <-c.Done() }) }()
	t.Cleanup(func() { cancel(); <-done })
	began := time.Now()
	waitFor(t, 5*time.Second, "takeover after expiry", l.Leading)
	if d := time.Since(began); d < ttl/2 {
		t.Errorf("took over after %s, before the dead holder's TTL %s", d, ttl)
	}
}
