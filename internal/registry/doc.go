// Package registry owns the deployed state of a node: functions, secrets and
// namespaces. Records are JSON values in three JetStream KV buckets
// (sigil_functions and sigil_secrets keyed "<ns>.<name>", sigil_namespaces
// keyed "<name>"), and every node keeps an in-memory copy current through a
// KV watch, so reads on the invoke hot path never touch the bus.
//
// Writes go to the KV first (create-if-absent or compare-and-set on the
// revision) and are applied to the local cache before returning, which gives
// read-your-writes on the writing node; the watch brings every other node up
// to date. A cache entry is only replaced by a newer revision, so a late watch
// delivery never undoes a local write.
package registry
