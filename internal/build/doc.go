// Package build owns building WebAssembly (WASI preview 1) guests with the
// local toolchains: Go through its own wasip1 port, C through clang with the
// Debian wasi-libc sysroot. It also knows the catalogue of example functions
// under examples/ and rebuilds one only when its sources changed, so that
// `sigil up --demo` is fast the second time.
//
// The C toolchain is installed by scripts/install-deps.sh.
package build
