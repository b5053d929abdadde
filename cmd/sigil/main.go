// Command sigil is both the Sigil server (`sigil up`) and the CLI that talks
// to it. It only wires the commands; the logic lives in internal/cli.
package main

import (
	"os"

	"github.com/sigilhq/sigil/internal/cli"
)

func main() {
	root := cli.NewRootCommand(cli.NewUpCommand())
	os.Exit(cli.Run(root))
}
