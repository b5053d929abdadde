package cli

import (
	"fmt"
	"slices"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newNamespaceCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "namespace",
		Aliases: []string{"ns"},
		Short:   "Manage function namespaces",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:     "list",
			Aliases: []string{"ls"},
			Short:   "List namespaces",
			Args:    noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := g.client("")
				if err != nil {
					return err
				}
				ns, err := c.ListNamespaces(cmd.Context())
				if err != nil {
					return err
				}
				slices.Sort(ns)
				for _, n := range ns {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "get NAME",
			Short: "Show a namespace's labels and annotations",
			Args:  exactArgs("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client("")
				if err != nil {
					return err
				}
				ns, err := c.GetNamespace(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				tw := newTable(cmd.OutOrStdout())
				fmt.Fprintf(tw, "Name:\t%s\nLabels:\t%s\nAnnotations:\t%s\n",
					ns.Name, joinMap(ns.Labels), joinMap(ns.Annotations))
				return tw.Flush()
			},
		},
		newNamespaceWriteCommand(g, "create"),
		newNamespaceWriteCommand(g, "update"),
		&cobra.Command{
			Use:     "remove NAME",
			Aliases: []string{"rm"},
			Short:   "Remove a namespace",
			Args:    exactArgs("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client("")
				if err != nil {
					return err
				}
				if err := c.DeleteNamespace(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Namespace %s removed.\n", args[0])
				return nil
			},
		},
	)
	return cmd
}

func newNamespaceWriteCommand(g *globals, verb string) *cobra.Command {
	var labels, annotations []string
	cmd := &cobra.Command{
		Use:     verb + " NAME [--label k=v] [--annotation k=v]",
		Short:   verb + " a namespace (the label and annotation openfaas=1 are always added)",
		Example: fmt.Sprintf("  sigil namespace %s team1 --label owner=alice", verb),
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseKV(cmd, "label", labels)
			if err != nil {
				return err
			}
			a, err := parseKV(cmd, "annotation", annotations)
			if err != nil {
				return err
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			ns := client.FunctionNamespace{Name: args[0], Labels: l, Annotations: a}
			if verb == "create" {
				err = c.CreateNamespace(cmd.Context(), ns)
			} else {
				err = c.UpdateNamespace(cmd.Context(), ns)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Namespace %s %sd.\n", args[0], verb)
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&labels, "label", "l", nil, "label key=value (repeatable)")
	cmd.Flags().StringArrayVar(&annotations, "annotation", nil, "annotation key=value (repeatable)")
	return cmd
}
