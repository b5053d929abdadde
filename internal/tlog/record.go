package tlog

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Deployment-record kind and version (the entry's "kind"/"apiVersion").
const (
	RecordKind    = "sigil.deployment"
	RecordVersion = "0.0.1"
)

// Actions of a deployment record.
const (
	ActionDeploy = "deploy"
	ActionUpdate = "update"
	ActionRemove = "remove"
)

// Record is what the node states about one deploy, update or remove.
type Record struct {
	Namespace string    `json:"namespace"`
	Function  string    `json:"function"`
	Digest    string    `json:"digest,omitempty"`
	SignerKey string    `json:"signerKeyId,omitempty"` // "" when audit mode let an unsigned artifact through
	Action    string    `json:"action"`
	Mode      string    `json:"mode,omitempty"`
	Time      time.Time `json:"time"`
}

// recordEntry is the logged form: the record and the node's Ed25519
// signature over its JSON encoding (the "spec" bytes exactly as logged).
type recordEntry struct {
	Kind       string          `json:"kind"`
	APIVersion string          `json:"apiVersion"`
	Spec       json.RawMessage `json:"spec"`
	Signature  []byte          `json:"signature"`
}

// EncodeRecord returns the entry bytes of rec, signed by key.
func EncodeRecord(rec Record, key ed25519.PrivateKey) ([]byte, error) {
	spec, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("tlog: record: %w", err)
	}
	return json.Marshal(recordEntry{Kind: RecordKind, APIVersion: RecordVersion, Spec: spec, Signature: ed25519.Sign(key, spec)})
}

// ErrNotRecord means an entry is not a deployment record (it is, say, a
// hashedrekord entry).
var ErrNotRecord = errors.New("tlog: not a deployment record")

// DecodeRecord parses a deployment-record entry and checks the node's
// signature with pub.
func DecodeRecord(data []byte, pub ed25519.PublicKey) (Record, error) {
	var e recordEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Kind != RecordKind {
		return Record{}, ErrNotRecord
	}
	if !ed25519.Verify(pub, e.Spec, e.Signature) {
		return Record{}, fmt.Errorf("tlog: deployment record signature does not verify")
	}
	var r Record
	if err := json.Unmarshal(e.Spec, &r); err != nil {
		return Record{}, fmt.Errorf("tlog: record: %w", err)
	}
	return r, nil
}

// EntryKind reports "hashedrekord", RecordKind or "" for one entry.
func EntryKind(data []byte) string {
	var e struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	return e.Kind
}

// AppendRecord signs and logs rec.
func (l *Log) AppendRecord(ctx context.Context, rec Record) (Receipt, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	b, err := EncodeRecord(rec, l.key)
	if err != nil {
		return Receipt{}, err
	}
	return l.Append(ctx, b)
}
