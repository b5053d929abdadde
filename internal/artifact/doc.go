// Package artifact owns the content-addressed store of WebAssembly modules and
// the tags that name them.
//
// An artifact is an immutable .wasm blob named by its digest "sha256:<hex>",
// kept in the JetStream object store bucket sigil_artifacts (object name =
// digest), with its metadata (size, ABI, creation time) in the KV bucket
// sigil_artifact_meta (key = hex of the digest). A tag is a normalized image
// reference ("hello:latest", "ghcr.io/acme/hello:1.0") stored in the KV bucket
// sigil_tags (key = base64url of the reference, value = digest); that bucket
// is the single source of truth for which tags point where, and Artifact.Tags
// is derived from it on every read.
//
// Bytes read back are always re-hashed and compared to the digest they were
// asked for; a mismatch is ErrCorrupt. Untagged artifacts are kept (there is
// no garbage collection yet).
package artifact
