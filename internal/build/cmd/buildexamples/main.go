// Command buildexamples builds every example in examples/ into the directory
// given as its only argument (used by `make examples`).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sigilhq/sigil/internal/build"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: buildexamples OUTDIR")
		os.Exit(2)
	}
	failed := false
	for _, e := range build.Examples() {
		if !build.Available(e.Lang) {
			fmt.Fprintf(os.Stderr, "skip %s: no %s toolchain (run scripts/install-deps.sh)\n", e.Name, e.Lang)
			continue
		}
		p, err := build.BuildExample(context.Background(), ".", e, os.Args[1])
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", e.Name, err)
			failed = true
			continue
		}
		fmt.Println(p)
	}
	if failed {
		os.Exit(1)
	}
}
