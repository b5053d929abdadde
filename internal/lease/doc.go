// Package lease owns leader election by JetStream KV lease: one key in a
// replicated bucket whose TTL is the lease duration, taken with Create (only
// when no live holder exists) and kept with revision-guarded Updates. The
// holder runs a callback for as long as it keeps the lease; a holder that
// cannot refresh in time stops by itself before the key can expire, so two
// holders never act at once (clock rates permitting). No consensus of its
// own: JetStream's Raft orders the Create/Update operations.
package lease
