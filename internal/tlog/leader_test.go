package tlog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/lease"
	"github.com/sigilhq/sigil/internal/natsutil/natstest"
	"github.com/sigilhq/sigil/internal/testutil"
)

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, within, what, cond)
}

// TestClusterSingleWriterFailover: two members share one log; the lease
// holder writes, the other forwards; when the writer stops, the other
// takes over, rebuilds the tiles from the entry stream and continues the
// same log (same key, same indexes, consistent checkpoints).
func TestClusterSingleWriterFailover(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	const ttl = time.Second
	leases, err := lease.Bucket(ctx, srv.JS, "t_leases", 1, ttl)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	open := func(name string) *Log {
		l, err := OpenCluster(ctx, ClusterOptions{
			Options: Options{Dir: t.TempDir(), Key: key},
			NC:      srv.NC, JS: srv.JS, Leases: leases, LeaseTTL: ttl, Node: name, Replicas: 1,
			AppendTimeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a := open("a")
	waitUntil(t, 5*time.Second, "a to become the writer", a.Writer)
	b := open("b")
	t.Cleanup(func() { _ = b.Close(ctx) })
	if b.Writer() {
		t.Fatal("two writers")
	}

	var receipts []Receipt
	var entries [][]byte
	for i := range 6 {
		data := []byte(fmt.Sprintf(`{"kind":"test","n":%d}`, i))
		via := a
		if i%2 == 1 {
			via = b // forwarded to a
		}
		rc, err := via.Append(ctx, data)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if rc.Index != uint64(i) {
			t.Fatalf("append %d got index %d", i, rc.Index)
		}
		receipts, entries = append(receipts, rc), append(entries, data)
	}
	// A repeated entry keeps its index (a retried forward is harmless).
	if rc, err := b.Append(ctx, entries[2]); err != nil || rc.Index != 2 || !rc.Dup {
		t.Fatalf("repeat: %+v, %v", rc, err)
	}
	cpBefore, err := b.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Reads on the non-writer go through the writer.
	hs := httptest.NewServer(b.Handler("/system/tlog/"))
	defer hs.Close()
	res, err := http.Get(hs.URL + "/system/tlog/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("checkpoint via b: %d %q", res.StatusCode, body)
	}
	if res, _ := http.Get(hs.URL + "/system/tlog/../secret"); res != nil && res.StatusCode != 404 {
		t.Errorf("path outside the tiles: %d", res.StatusCode)
	}

	// The writer leaves (graceful: lease released at once).
	began := time.Now()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Append(ctx, []byte(`{"kind":"test","n":6}`))
	if err != nil {
		t.Fatalf("append after failover: %v", err)
	}
	if rc.Index != 6 {
		t.Fatalf("after failover got index %d, want 6", rc.Index)
	}
	t.Logf("failover after a graceful leave: %s", time.Since(began).Round(time.Millisecond))
	if !b.Writer() {
		t.Fatal("b is not the writer after a left")
	}
	cpAfter, err := b.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyConsistency(ctx, b.Fetcher(), cpBefore, cpAfter); err != nil {
		t.Fatalf("log after failover is not an extension of the log before: %v", err)
	}
	for i, data := range entries {
		if err := VerifyInclusion(ctx, b.Fetcher(), cpAfter, uint64(i), data); err != nil {
			t.Errorf("entry %d after failover: %v", i, err)
		}
	}
	_ = receipts
}
