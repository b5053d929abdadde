package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sigilhq/sigil/internal/trust"
	"github.com/spf13/cobra"
)

func newKeygenCommand(_ *globals) *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write an ECDSA P-256 signing key pair (PREFIX.key, PREFIX.pub)",
		Long: "keygen writes a signing key pair in the format cosign uses: PREFIX.key is the private key,\n" +
			"encrypted with $SIGIL_PASSWORD (else $COSIGN_PASSWORD; empty means unencrypted), PREFIX.pub the public key.\n" +
			"Trust the public key with `sigil trust add PREFIX.pub`, sign with `sigil push --key PREFIX.key`.",
		Example: "  SIGIL_PASSWORD=s3cret sigil keygen --output-key-prefix release\n  sigil trust add release.pub --name release",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keyPath, pubPath := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{keyPath, pubPath} {
					if _, err := os.Stat(p); err == nil {
						return fmt.Errorf("keygen: %s exists (use --force to overwrite)", p)
					} else if !errors.Is(err, fs.ErrNotExist) {
						return fmt.Errorf("keygen: %w", err)
					}
				}
			}
			k, err := trust.GenerateKey()
			if err != nil {
				return err
			}
			priv, err := trust.EncodePrivateKey(k, trust.KeyPassword())
			if err != nil {
				return err
			}
			pub, err := trust.EncodePublicKey(k.Public())
			if err != nil {
				return err
			}
			if err := os.WriteFile(keyPath, priv, 0o600); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			id, _ := trust.KeyID(k.Public())
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s\npublic key:  %s\nkey id:      %s\n", keyPath, pubPath, id)
			if len(trust.KeyPassword()) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: the private key is not encrypted (set SIGIL_PASSWORD to encrypt it)")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "sigil", "write PREFIX.key and PREFIX.pub")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}
