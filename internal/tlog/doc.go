// Package tlog owns Sigil's transparency log: a Tessera v1 log with POSIX
// storage under DATA/tlog, checkpoints as C2SP signed notes by the node's
// Ed25519 key, two kinds of entry (Rekor v2 hashedrekord 0.0.2 entries for
// artifact signatures, and node-signed deployment records), inclusion and
// consistency proofs, the read-only tlog-tiles HTTP view, and the
// client-side checks (checkpoint, consistency, full audit).
package tlog
