// Package runtime owns the execution of function modules: it compiles
// WebAssembly (WASI preview 1) artifacts once per digest with wazero's
// compiler engine and a file-backed compilation cache, and runs them in
// bounded instances (memory cap, deadline, stdout cap, read-only secrets, no
// other file system, no host environment), splitting stderr into log lines.
// A large module the compiler has not compiled on this node yet is compiled
// with wazero's interpreter first and served by it while the compiler works
// in the background (interp.go).
//
// Two ways to run a module:
//
//   - Invoke: a fresh instance per invocation, run to completion, stdout
//     captured. The caller (package abi/api) builds argv, env and stdin and
//     interprets the exit code and stdout.
//   - Pool: warm instances that each serve many requests, one at a time, over
//     the pooled frame protocol (internal/abi/pooled.go) on their stdin and
//     stdout. A pool keeps N instances, queues requests up to a bound, and
//     discards and replaces any instance that traps, times out, exceeds its
//     memory, floods its output, exits or breaks the protocol.
package runtime
