package tlog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openLog(t testing.TB, dir string, key ed25519.PrivateKey) *Log {
	t.Helper()
	l, err := Open(context.Background(), Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

func TestAppendProofsRestartTamper(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := newKey(t)
	l := openLog(t, dir, key)

	var entries [][]byte
	for i := range 5 {
		rec := Record{Namespace: "ns", Function: fmt.Sprintf("f%d", i), Digest: "sha256:00", Action: ActionDeploy, Time: time.Unix(int64(i), 0).UTC()}
		rc, err := l.AppendRecord(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Index != uint64(i) {
			t.Fatalf("index %d, want %d", rc.Index, i)
		}
		b, _ := EncodeRecord(rec, key)
		entries = append(entries, b)
	}
	cp1, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp1.Size != 5 {
		t.Fatalf("size %d, want 5", cp1.Size)
	}
	f := l.Fetcher()
	for i, e := range entries {
		if err := VerifyInclusion(ctx, f, cp1, uint64(i), e); err != nil {
			t.Fatalf("inclusion %d: %v", i, err)
		}
	}
	var seen int
	if err := Audit(ctx, f, cp1, func(_ uint64, data []byte) error {
		if _, err := DecodeRecord(data, key.Public().(ed25519.PublicKey)); err != nil {
			return err
		}
		seen++
		return nil
	}); err != nil || seen != 5 {
		t.Fatalf("audit: %v (seen %d)", err, seen)
	}

	// Restart: the log reopens with the same origin and stays consistent.
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, dir, key)
	if _, err := l2.AppendRecord(ctx, Record{Namespace: "ns", Function: "after", Action: ActionRemove}); err != nil {
		t.Fatal(err)
	}
	cp2, err := l2.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp2.Size != 6 {
		t.Fatalf("size after restart %d, want 6", cp2.Size)
	}
	if err := VerifyConsistency(ctx, l2.Fetcher(), cp1, cp2); err != nil {
		t.Fatalf("consistency across restart: %v", err)
	}
	if err := Audit(ctx, l2.Fetcher(), cp2, nil); err != nil {
		t.Fatalf("audit after restart: %v", err)
	}

	// A checkpoint of another history is refused.
	if err := VerifyConsistency(ctx, l2.Fetcher(), Checkpoint{Size: 3, Hash: make([]byte, 32)}, cp2); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("forged old root: err %v, want ErrInconsistent", err)
	}
	// Truncation is refused.
	if err := VerifyConsistency(ctx, l2.Fetcher(), cp2, cp1); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("truncation: err %v, want ErrInconsistent", err)
	}

	// Rewrite history on disk: replace the first entry's bytes in the
	// entry bundle. The audit recomputes a different root.
	if err := l2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "tile", "entries", "000.p", "6")
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	i := indexOf(b, []byte(`"f0"`))
	if i < 0 {
		t.Fatalf("entry not found in %s", bundle)
	}
	copy(b[i:], `"fX"`)
	if err := os.WriteFile(bundle, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Audit(ctx, FileFetcherFor(dir), cp2, nil); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("audit of a rewritten log: err %v, want ErrInconsistent", err)
	}
	// Rewrite a hash tile too: consistency from the old checkpoint fails.
	tile := filepath.Join(dir, "tile", "0", "000.p", "6")
	tb, err := os.ReadFile(tile)
	if err != nil {
		t.Fatal(err)
	}
	tb[0] ^= 0xff
	if err := os.WriteFile(tile, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyInclusion(ctx, FileFetcherFor(dir), cp2, 5, nil); !errors.Is(err, ErrInconsistent) && err == nil {
		t.Fatalf("inclusion against a rewritten tile unexpectedly verified")
	}
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}

func TestCheckpointSignature(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, t.TempDir(), newKey(t))
	if _, err := l.Append(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NoteVerifier(l.Origin(), newKey(t).Public().(ed25519.PublicKey))
	if _, err := ParseCheckpoint(cp.Raw, l.Origin(), other); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("checkpoint under the wrong key: err %v", err)
	}
}
