// Command coreutils is one multi-call Wasm module holding a few classic
// utilities (OpenFaaS ABI). The base name of argv[0] picks the applet, so a
// function deployed with fprocess "cat /var/openfaas/secrets/x" runs cat on
// that file. Invoked under its own name ("coreutils" or "coreutils.wasm") it
// takes the applet from argv[1], busybox style.
//
// Applets: cat, echo, env, sha512sum, wc. An unknown applet prints a message
// to stderr and exits 2.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args, os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}
