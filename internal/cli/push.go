package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newPushCommand(g *globals) *cobra.Command {
	var tags []string
	var abi string
	var po pushOptions
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
			a, err := pushWith(cmd.Context(), c, args[0], tags, abi, po)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "digest: %s\nsize:   %d\n", a.Digest, a.Size)
			if a.ABI != "" {
				fmt.Fprintf(out, "abi:    %s\n", a.ABI)
			}
			fmt.Fprintf(out, "tags:   %s\n", strings.Join(a.Tags, ", "))
			if a.SignerKeyID != "" {
				fmt.Fprintf(out, "signer: %s\n", a.SignerKeyID)
			}
			if a.LogIndex != nil {
				fmt.Fprintf(out, "log:    %d\n", *a.LogIndex)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&tags, "tag", "t", nil, "image reference to point at the artifact (repeatable)")
	cmd.Flags().StringVar(&po.key, "key", "", "signing key (default $SIGIL_KEY, else ./.sigil/keys/dev.key, else <user config dir>/sigil/keys/dev.key)")
	cmd.Flags().StringVar(&po.bundle, "bundle", "", "upload this Sigstore bundle (e.g. from `sigil sign` or `cosign sign-blob`) instead of signing")
	cmd.Flags().StringVarP(&po.namespace, "namespace", "n", "", "namespace whose trust policy checks the signature (default openfaas-fn)")
	cmd.Flags().StringVar(&abi, "abi", "", "how requests meet the module: openfaas, wagi or pooled (default: the server's, openfaas)")
	return cmd
}

func checkABI(cmd *cobra.Command, abi string) error {
	switch abi {
	case "", client.ABIOpenFaaS, client.ABIWagi, client.ABIPooled:
		return nil
	}
	return usagef(cmd, "--abi %q: want openfaas, wagi or pooled", abi)
}

// push reads path and uploads it, signed when a signing key is found.
func push(ctx context.Context, c *client.Client, path string, tags []string, abi string) (client.Artifact, error) {
	return pushWith(ctx, c, path, tags, abi, pushOptions{})
}
