package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/sigilhq/sigil/internal/trust"
	"github.com/spf13/cobra"
)

func newTrustCommand(g *globals) *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Manage a namespace's trust policy: trusted keys and enforce/audit mode",
		Long: "A namespace runs only artifacts signed by a key it trusts (mode enforce, the default);\n" +
			"mode audit lets others through but logs and counts them. A namespace without its own policy\n" +
			"follows openfaas-fn's until it is changed.",
	}
	cmd.PersistentFlags().StringVarP(&namespace, "namespace", "n", "", "namespace (default openfaas-fn)")
	list := &cobra.Command{
		Use:   "list",
		Short: "Show the mode and the trusted keys",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			p, err := c.TrustPolicy(cmd.Context(), namespace)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "namespace: %s\nmode:      %s\n", p.Namespace, p.Mode)
			if p.InheritedFrom != "" {
				fmt.Fprintf(out, "inherited: from %s\n", p.InheritedFrom)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "Key ID\tName\tAdded")
			for _, k := range p.Keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	var name string
	add := &cobra.Command{
		Use:     "add KEY.pub",
		Short:   "Trust a public key (PEM, ECDSA P-256; cosign.pub works)",
		Example: "  sigil trust add release.pub --name release\n  sigil trust add cosign.pub -n team-a",
		Args:    exactArgs("KEY.pub"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pemb, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("trust add: %w", err)
			}
			if _, err := trust.ParsePublicKey(pemb); err != nil {
				return fmt.Errorf("trust add: %s: %w", args[0], err)
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			k, err := c.AddTrustedKey(cmd.Context(), namespace, name, pemb)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trusted %s (%s)\n", k.ID, k.Name)
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "a label for the key")
	remove := &cobra.Command{
		Use:   "remove KEY-ID",
		Short: "Stop trusting a key (its id, or a prefix of at least 8 hex digits)",
		Args:  exactArgs("KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			if err := c.RemoveTrustedKey(cmd.Context(), namespace, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			return nil
		},
	}
	mode := &cobra.Command{
		Use:   "mode enforce|audit",
		Short: "Set the policy mode",
		Args:  exactArgs("MODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != trust.ModeEnforce && args[0] != trust.ModeAudit {
				return usagef(cmd, "mode %q: want enforce or audit", args[0])
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			p, err := c.SetTrustMode(cmd.Context(), namespace, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "namespace %s: mode %s\n", p.Namespace, p.Mode)
			return nil
		},
	}
	cmd.AddCommand(list, add, remove, mode)
	return cmd
}
