package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newPushCommand(g *globals) *cobra.Command {
	var tags []string
	var abi string
	cmd := &cobra.Command{
		Use:   "push FILE",
		Short: "Upload a .wasm module and tag it",
		Long: "push uploads a WebAssembly module (POST /system/artifacts). The artifact is named by its digest;\n" +
			"each --tag makes it deployable as an image, e.g. `sigil deploy --image hello:1`.",
		Example: "  sigil push hello.wasm --tag hello:latest\n" +
			"  sigil push cgi.wasm --tag ghcr.io/acme/cgi:1.2 --tag cgi:latest --abi wagi",
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkABI(cmd, abi); err != nil {
				return err
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			a, err := push(cmd.Context(), c, args[0], tags, abi)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "digest: %s\nsize:   %d\n", a.Digest, a.Size)
			if a.ABI != "" {
				fmt.Fprintf(out, "abi:    %s\n", a.ABI)
			}
			fmt.Fprintf(out, "tags:   %s\n", strings.Join(a.Tags, ", "))
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&tags, "tag", "t", nil, "image reference to point at the artifact (repeatable)")
	cmd.Flags().StringVar(&abi, "abi", "", "how requests meet the module: openfaas or wagi (default: the server's, openfaas)")
	return cmd
}

func checkABI(cmd *cobra.Command, abi string) error {
	switch abi {
	case "", client.ABIOpenFaaS, client.ABIWagi:
		return nil
	}
	return usagef(cmd, "--abi %q: want openfaas or wagi", abi)
}

// push reads path and uploads it.
func push(ctx context.Context, c *client.Client, path string, tags []string, abi string) (client.Artifact, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return client.Artifact{}, fmt.Errorf("push: %w", err)
	}
	return c.PushArtifact(ctx, b, tags, abi)
}
