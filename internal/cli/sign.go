package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sigilhq/sigil/internal/trust"
	"github.com/spf13/cobra"
)

func newSignCommand(g *globals) *cobra.Command {
	var keyFlag, out string
	cmd := &cobra.Command{
		Use:   "sign FILE.wasm",
		Short: "Write a Sigstore bundle (v0.3) signing a module",
		Long: "sign signs the sha256 digest of FILE.wasm and writes a Sigstore bundle v0.3 (FILE.wasm.sigstore.json by default),\n" +
			"which `sigil push --bundle` uploads and `cosign verify-blob --bundle` accepts.\n" +
			"The key is --key, else $SIGIL_KEY, else ./.sigil/keys/dev.key, else the developer key of the local node\n" +
			"serving the gateway (recorded by `sigil up`), else <user config dir>/sigil/keys/dev.key.",
		Example: "  sigil sign hello.wasm --key release.key\n  sigil push hello.wasm --bundle hello.wasm.sigstore.json --tag hello:1",
		Args:    exactArgs("FILE.wasm"),
		RunE: func(cmd *cobra.Command, args []string) error {
			wasm, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			b, keyPath, err := signModule(cmd.Context(), keyFlag, resolveGateway(g.gateway, ""), wasm)
			if err != nil {
				return err
			}
			if b == nil {
				return errors.New("sign: no signing key (pass --key, set SIGIL_KEY, or run `sigil keygen`)")
			}
			if out == "" {
				out = args[0] + ".sigstore.json"
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bundle: %s\nkey:    %s\n", out, keyPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFlag, "key", "", "signing key (PEM, ECDSA P-256; cosign keys work)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "bundle file (default FILE.wasm.sigstore.json)")
	return cmd
}

// signModule signs wasm with the key FindSigningKeyFor picks for gateway.
// It returns a nil bundle (and no error) when there is no key to find.
func signModule(ctx context.Context, keyFlag, gateway string, wasm []byte) (bundle []byte, keyPath string, err error) {
	keyPath = trust.FindSigningKeyFor(keyFlag, gateway)
	if keyPath == "" {
		return nil, "", nil
	}
	k, err := trust.LoadSigningKeyFile(keyPath)
	if err != nil {
		return nil, keyPath, err
	}
	b, err := trust.Sign(ctx, k, wasm)
	if err != nil {
		return nil, keyPath, err
	}
	return b, keyPath, nil
}
