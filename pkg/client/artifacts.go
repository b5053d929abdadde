package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
)

// ABIs accepted by PushArtifact.
const (
	ABIOpenFaaS = "openfaas"
	ABIWagi     = "wagi"
	ABIPooled   = "pooled" // warm instances serving framed requests (the Go SDK)
)

// PushArtifact uploads the bytes of a .wasm module with POST
// /system/artifacts?tag=REF[&tag=REF2][&abi=ABI]. An empty abi lets the
// server pick its default. The server answers 201 for a new artifact and 200
// for one it already had; both return the Artifact.
func (c *Client) PushArtifact(ctx context.Context, wasm []byte, tags []string, abi string) (Artifact, error) {
	q := url.Values{}
	for _, t := range tags {
		q.Add("tag", t)
	}
	if abi != "" {
		q.Set("abi", abi)
	}
	var a Artifact
	err := c.getJSON(ctx, request{
		op: "push", method: http.MethodPost, path: "/system/artifacts", query: q,
		body: bytes.NewReader(wasm), contentType: "application/wasm",
	}, &a)
	return a, err
}

// ListArtifacts returns GET /system/artifacts.
func (c *Client) ListArtifacts(ctx context.Context) ([]Artifact, error) {
	var as []Artifact
	err := c.getJSON(ctx, request{op: "list artifacts", method: http.MethodGet, path: "/system/artifacts"}, &as)
	return as, err
}
