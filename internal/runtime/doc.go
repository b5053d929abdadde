// Package runtime owns the execution of function modules: it compiles
// WebAssembly (WASI preview 1) artifacts once per digest with wazero's
// compiler engine and a file-backed compilation cache, and runs every
// invocation in a fresh, bounded instance (memory cap, deadline, stdout cap,
// read-only secrets, no other file system, no host environment), capturing
// stdout and splitting stderr into log lines.
//
// It knows nothing about HTTP or ABIs: callers (package abi/api) build argv,
// env and stdin, and interpret the exit code and stdout.
package runtime
