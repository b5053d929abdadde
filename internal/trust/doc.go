// Package trust owns Sigil's signing trust: key pairs (ECDSA P-256 artifact
// keys, cosign-compatible PEM, and the node's Ed25519 log key), Sigstore
// bundle v0.3 signing and verification through sigstore-go, the
// per-namespace policy (trusted public keys, enforce or audit) kept in a
// JetStream KV bucket behind a watched cache, and the signature bundles
// recorded for each artifact digest.
package trust
