package trust

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Signature is one verified signature recorded for an artifact.
type Signature struct {
	Digest    string          `json:"digest"`
	KeyID     string          `json:"keyId"`
	LogIndex  *int64          `json:"logIndex,omitempty"` // transparency-log index of its hashedrekord entry
	Bundle    json.RawMessage `json:"bundle"`             // Sigstore bundle v0.3, with the log entry when logged
	CreatedAt time.Time       `json:"createdAt"`
}

func sigKey(digest, keyID string) string {
	return strings.TrimPrefix(digest, "sha256:") + "." + keyID
}

// PutSignature records s (replacing an earlier one by the same key).
func (s *Store) PutSignature(ctx context.Context, sig Signature) error {
	if sig.CreatedAt.IsZero() {
		sig.CreatedAt = time.Now().UTC()
	}
	b, err := json.Marshal(sig)
	if err != nil {
		return fmt.Errorf("encode signature: %w", err)
	}
	if _, err := s.sigs.Put(ctx, sigKey(sig.Digest, sig.KeyID), b); err != nil {
		return fmt.Errorf("store signature %s: %w", sig.Digest, err)
	}
	return nil
}

// Signatures returns every signature recorded for digest, oldest first.
func (s *Store) Signatures(ctx context.Context, digest string) ([]Signature, error) {
	w, err := s.sigs.Watch(ctx, strings.TrimPrefix(digest, "sha256:")+".*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("signatures %s: %w", digest, err)
	}
	defer func() { _ = w.Stop() }()
	out := []Signature{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("signatures %s: watcher closed", digest)
			}
			if e == nil {
				sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
				return out, nil
			}
			var sig Signature
			if err := json.Unmarshal(e.Value(), &sig); err != nil {
				return nil, fmt.Errorf("signature %s: %w", e.Key(), err)
			}
			out = append(out, sig)
		case <-ctx.Done():
			return nil, fmt.Errorf("signatures %s: %w", digest, ctx.Err())
		}
	}
}

// Check finds a recorded signature over digest by a key policy trusts,
// re-verifying it. It returns the signer's KeyID, or ErrUnsigned /
// ErrUntrusted / ErrInvalid.
func (s *Store) Check(ctx context.Context, digest string, p Policy, opt VerifyOptions) (Signature, error) {
	sigs, err := s.Signatures(ctx, digest)
	if err != nil {
		return Signature{}, err
	}
	if len(sigs) == 0 {
		return Signature{}, fmt.Errorf("%w: %s has no recorded signature", ErrUnsigned, digest)
	}
	var firstErr error
	for _, sig := range sigs {
		if _, err := Verify(sig.Bundle, digest, p.Keys, opt); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return sig, nil
	}
	return Signature{}, firstErr
}
