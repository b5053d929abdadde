// Package server assembles one Sigil node: it starts the embedded NATS
// JetStream server, opens the registry, artifact and log stores on it, starts
// the Wasm runtime with its file-backed compilation cache, keeps compiled code
// in step with the registry, and serves the HTTP gateway. It is the only
// package that knows every other one.
package server
