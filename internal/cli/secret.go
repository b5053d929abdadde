package cli

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newSecretCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Manage secrets mounted into functions at /var/openfaas/secrets/<name>",
	}
	cmd.AddCommand(
		newSecretWriteCommand(g, "create", "Create a secret"),
		newSecretWriteCommand(g, "update", "Replace a secret's value"),
		newSecretListCommand(g),
		newSecretRemoveCommand(g),
	)
	return cmd
}

func newSecretWriteCommand(g *globals, verb, short string) *cobra.Command {
	var namespace, literal, file string
	cmd := &cobra.Command{
		Use:   verb + " NAME [--from-literal VALUE | --from-file FILE]",
		Short: short + " from a literal, a file, or stdin",
		Example: fmt.Sprintf("  sigil secret %[1]s api-key --from-literal s3cret\n"+
			"  sigil secret %[1]s tls-key --from-file key.pem\n"+
			"  vault read -field=key x | sigil secret %[1]s api-key", verb),
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := client.Secret{Name: args[0], Namespace: namespace}
			switch {
			case literal != "" && file != "":
				return usagef(cmd, "--from-literal and --from-file are mutually exclusive")
			case literal != "":
				s.Value = literal
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("secret %s: %w", verb, err)
				}
				s.RawValue = b
			default:
				b, ok, err := readStdin(cmd)
				if err != nil {
					return err
				}
				if !ok {
					return usagef(cmd, "give --from-literal, --from-file, or the value on stdin")
				}
				s.Value = strings.TrimRight(string(b), "\r\n")
			}
			if s.Value == "" && len(s.RawValue) == 0 {
				return usagef(cmd, "the secret value is empty")
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			if verb == "create" {
				err = c.CreateSecret(cmd.Context(), s)
			} else {
				err = c.UpdateSecret(cmd.Context(), s)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Secret %s %sd.\n", s.Name, verb)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	f.StringVar(&literal, "from-literal", "", "the value")
	f.StringVar(&file, "from-file", "", "read the value (bytes, unchanged) from this file")
	return cmd
}

func newSecretListCommand(g *globals) *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List secret names",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			ss, err := c.ListSecrets(cmd.Context(), namespace)
			if err != nil {
				return err
			}
			slices.SortFunc(ss, func(a, b client.Secret) int { return cmp.Compare(a.Name, b.Name) })
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "Name\tNamespace")
			for _, s := range ss {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, orDash(s.Namespace))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	return cmd
}

func newSecretRemoveCommand(g *globals) *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a secret",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			if err := c.DeleteSecret(cmd.Context(), args[0], namespace); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Secret %s removed.\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	return cmd
}
