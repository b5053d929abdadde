package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newListCommand(g *globals) *cobra.Command {
	var namespace string
	var verbose, quiet bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List deployed functions",
		Example: "  sigil list\n  sigil list -v -n team1",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			fns, err := c.ListFunctions(cmd.Context(), namespace)
			if err != nil {
				return err
			}
			slices.SortFunc(fns, func(a, b client.FunctionStatus) int { return cmp.Compare(a.Name, b.Name) })
			out := cmd.OutOrStdout()
			if quiet {
				for _, fn := range fns {
					fmt.Fprintln(out, fn.Name)
				}
				return nil
			}
			tw := newTable(out)
			if verbose {
				fmt.Fprintln(tw, "Function\tInvocations\tReplicas\tImage\tDigest\tABI")
			} else {
				fmt.Fprintln(tw, "Function\tInvocations\tReplicas\tImage")
			}
			for _, fn := range fns {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s", fn.Name, int64(fn.InvocationCount), fn.Replicas, fn.Image)
				if verbose {
					fmt.Fprintf(tw, "\t%s\t%s", orDash(fn.Digest), orDash(fn.ABI))
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	f.BoolVarP(&verbose, "verbose", "v", false, "add the artifact digest and ABI")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only function names")
	return cmd
}

func newDescribeCommand(g *globals) *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:     "describe NAME",
		Short:   "Show one function: status, image, digest, ABI, URLs, labels, env",
		Example: "  sigil describe hello\n  sigil describe hello -n team1",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			fn, err := c.GetFunction(cmd.Context(), args[0], namespace)
			if err != nil {
				return err
			}
			status := "Not Ready"
			if fn.AvailableReplicas > 0 {
				status = "Ready"
			}
			tw := newTable(cmd.OutOrStdout())
			row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
			row("Name", fn.Name)
			if fn.Namespace != "" {
				row("Namespace", fn.Namespace)
			}
			row("Status", status)
			row("Replicas", fn.Replicas)
			row("Available Replicas", fn.AvailableReplicas)
			row("Invocations", int64(fn.InvocationCount))
			row("Image", fn.Image)
			row("Digest", orDash(fn.Digest))
			row("ABI", orDash(fn.ABI))
			row("Function Process", orDash(fn.EnvProcess))
			row("URL", c.FunctionURL(fn.Name, namespace))
			row("Async URL", c.AsyncFunctionURL(fn.Name, namespace))
			row("Labels", joinMap(deref(fn.Labels)))
			row("Annotations", joinMap(deref(fn.Annotations)))
			row("Env", joinMap(fn.EnvVars))
			row("Secrets", joinList(fn.Secrets))
			if fn.Limits != nil {
				row("Limits", resourceString(fn.Limits))
			}
			if fn.Requests != nil {
				row("Requests", resourceString(fn.Requests))
			}
			if !fn.CreatedAt.IsZero() {
				row("Created", fn.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	return cmd
}

func resourceString(r *client.FunctionResources) string {
	var parts []string
	if r.Memory != "" {
		parts = append(parts, "memory="+r.Memory)
	}
	if r.CPU != "" {
		parts = append(parts, "cpu="+r.CPU)
	}
	return joinList(parts)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
