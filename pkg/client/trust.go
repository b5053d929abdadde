package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"
)

// TrustedKey is a public key a namespace trusts (Sigil's own type).
type TrustedKey struct {
	ID        string    `json:"id,omitempty"`
	Name      string    `json:"name,omitempty"`
	PublicKey string    `json:"publicKey"` // PKIX PEM, ECDSA P-256
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// TrustPolicy is a namespace's trust policy.
type TrustPolicy struct {
	Namespace     string       `json:"namespace,omitempty"`
	Mode          string       `json:"mode"` // enforce | audit
	Keys          []TrustedKey `json:"keys,omitempty"`
	InheritedFrom string       `json:"inheritedFrom,omitempty"`
}

// Signature is a verified signature recorded for an artifact.
type Signature struct {
	Digest    string          `json:"digest"`
	KeyID     string          `json:"keyId"`
	LogIndex  *int64          `json:"logIndex,omitempty"`
	Bundle    json.RawMessage `json:"bundle"`
	CreatedAt time.Time       `json:"createdAt"`
}

// TlogInfo describes a node's transparency log.
type TlogInfo struct {
	Origin     string `json:"origin"`
	PublicKey  string `json:"publicKey"` // PKIX PEM, Ed25519
	Size       uint64 `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// PushSigned uploads a module with its Sigstore bundle as
// multipart/form-data (parts "module" and "bundle") to POST
// /system/artifacts?tag=...&abi=...&namespace=... The namespace picks the
// trust policy the signature is checked against ("" = openfaas-fn).
func (c *Client) PushSigned(ctx context.Context, wasm, bundle []byte, tags []string, abi, namespace string) (Artifact, error) {
	q := url.Values{}
	for _, t := range tags {
		q.Add("tag", t)
	}
	if abi != "" {
		q.Set("abi", abi)
	}
	if namespace != "" {
		q.Set("namespace", namespace)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, file, ct string
		b              []byte
	}{
		{"module", "module.wasm", "application/wasm", wasm},
		{"bundle", "module.sigstore.json", "application/json", bundle},
	} {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file)}
		h["Content-Type"] = []string{p.ct}
		w, err := mw.CreatePart(h)
		if err != nil {
			return Artifact{}, fmt.Errorf("push: %w", err)
		}
		if _, err := w.Write(p.b); err != nil {
			return Artifact{}, fmt.Errorf("push: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return Artifact{}, fmt.Errorf("push: %w", err)
	}
	var a Artifact
	err := c.getJSON(ctx, request{
		op: "push", method: http.MethodPost, path: "/system/artifacts", query: q,
		body: &buf, contentType: mw.FormDataContentType(),
	}, &a)
	return a, err
}

// TrustPolicy returns GET /system/trust/policy?namespace=NS.
func (c *Client) TrustPolicy(ctx context.Context, namespace string) (TrustPolicy, error) {
	var p TrustPolicy
	err := c.getJSON(ctx, request{op: "trust policy", method: http.MethodGet, path: "/system/trust/policy", query: nsQuery(namespace)}, &p)
	return p, err
}

// SetTrustMode sets a namespace's mode ("enforce" or "audit").
func (c *Client) SetTrustMode(ctx context.Context, namespace, mode string) (TrustPolicy, error) {
	body, err := jsonBody(TrustPolicy{Mode: mode})
	if err != nil {
		return TrustPolicy{}, err
	}
	var p TrustPolicy
	err = c.getJSON(ctx, request{op: "set trust mode", method: http.MethodPut, path: "/system/trust/policy", query: nsQuery(namespace), body: body}, &p)
	return p, err
}

// AddTrustedKey trusts a PEM public key in a namespace.
func (c *Client) AddTrustedKey(ctx context.Context, namespace, name string, pemKey []byte) (TrustedKey, error) {
	body, err := jsonBody(TrustedKey{Name: name, PublicKey: string(pemKey)})
	if err != nil {
		return TrustedKey{}, err
	}
	var k TrustedKey
	err = c.getJSON(ctx, request{op: "trust key", method: http.MethodPost, path: "/system/trust/keys", query: nsQuery(namespace), body: body}, &k)
	return k, err
}

// RemoveTrustedKey stops trusting a key (its ID or a prefix of 8+ hex digits).
func (c *Client) RemoveTrustedKey(ctx context.Context, namespace, id string) error {
	_, err := c.do(ctx, request{op: "untrust key", method: http.MethodDelete, path: "/system/trust/keys/" + url.PathEscape(id), query: nsQuery(namespace)})
	return err
}

// Signatures returns the signatures recorded for an artifact digest.
func (c *Client) Signatures(ctx context.Context, digest string) ([]Signature, error) {
	var out []Signature
	err := c.getJSON(ctx, request{op: "signatures", method: http.MethodGet, path: "/system/trust/signatures", query: url.Values{"digest": {digest}}}, &out)
	return out, err
}

// TrustedRoot returns the node's Sigstore trusted_root.json.
func (c *Client) TrustedRoot(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, "trusted root", "/system/trust/root")
}

// TlogInfo returns the log's origin, public key and latest checkpoint.
func (c *Client) TlogInfo(ctx context.Context) (TlogInfo, error) {
	var i TlogInfo
	err := c.getJSON(ctx, request{op: "tlog", method: http.MethodGet, path: "/system/tlog"}, &i)
	return i, err
}

// TlogURL is the base URL of the log's tlog-tiles files (ends in "/").
func (c *Client) TlogURL() string { return c.gateway + "/system/tlog/" }

// HTTPClient is the http.Client the client uses.
func (c *Client) HTTPClient() *http.Client { return c.hc }

func (c *Client) raw(ctx context.Context, op, path string) ([]byte, error) {
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return b, nil
}
