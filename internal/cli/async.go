package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

// newAsyncCommand is `sigil async`: the queue, its dead letters, cancel.
func newAsyncCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "async",
		Short: "Inspect the async queue; list, inspect, re-drive and purge dead letters; cancel calls",
		Long: "Async calls (sigil invoke --async, POST /async-function/NAME) are retried on 429, 5xx and timeouts;\n" +
			"a call that fails every attempt becomes a dead letter, kept until re-driven or purged.",
		Example: "  sigil async status\n" +
			"  sigil async list -f worker\n" +
			"  sigil async inspect 0f6c…\n" +
			"  sigil async redrive 0f6c…      # or --all, -f worker\n" +
			"  sigil async purge --all\n" +
			"  sigil async cancel 0f6c…",
	}
	cmd.AddCommand(newAsyncStatusCommand(g), newAsyncListCommand(g), newAsyncInspectCommand(g),
		newAsyncRedriveCommand(g), newAsyncPurgeCommand(g), newAsyncCancelCommand(g))
	return cmd
}

func newAsyncStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the queue depth and the age of the oldest queued call",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			st, err := c.AsyncQueue(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Queued:  %d\nOldest:  %s\n", st.Depth,
				(time.Duration(st.OldestAgeSeconds * float64(time.Second))).Round(time.Millisecond))
			return nil
		},
	}
}

// filterFlags adds -n/--namespace and -f/--function.
func filterFlags(cmd *cobra.Command, f *client.DeadLetterFilter) {
	cmd.Flags().StringVarP(&f.Namespace, "namespace", "n", "", "only this namespace")
	cmd.Flags().StringVarP(&f.Function, "function", "f", "", "only this function (in --namespace, else the default one)")
}

func newAsyncListCommand(g *globals) *cobra.Command {
	var filter client.DeadLetterFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List dead letters, oldest first",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			list, err := c.DeadLetters(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, list)
			}
			writeDeadLetters(cmd, list)
			return nil
		},
	}
	filterFlags(cmd, &filter)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeDeadLetters(cmd *cobra.Command, list []client.DeadLetter) {
	tw := newTable(cmd.OutOrStdout())
	fmt.Fprintln(tw, "Call ID\tFunction\tStatus\tAttempts\tReason\tFailed")
	for _, d := range list {
		fmt.Fprintf(tw, "%s\t%s.%s\t%d\t%d\t%s\t%s\n", d.CallID, d.Function, d.Namespace, d.Status, d.Attempts,
			orDash(d.Reason), d.FailedAt.UTC().Format(time.RFC3339))
	}
	_ = tw.Flush()
}

func printJSON(cmd *cobra.Command, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return err
}

func newAsyncInspectCommand(g *globals) *cobra.Command {
	var body, asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect CALL_ID",
		Short: "Show one dead letter: request, last answer, attempts",
		Args:  exactArgs("CALL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			d, err := c.DeadLetter(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, d)
			}
			out := cmd.OutOrStdout()
			if body {
				_, err := out.Write(d.Body)
				return err
			}
			fmt.Fprintf(out, "Call ID:     %s\nFunction:    %s.%s\nRequest:     %s %s", d.CallID, d.Function, d.Namespace, d.Method, orDash(d.Path))
			if d.Query != "" {
				fmt.Fprintf(out, "?%s", d.Query)
			}
			fmt.Fprintf(out, "\nBody:        %d bytes\nCallback:    %s\nSource:      %s\nEnqueued:    %s\nFailed:      %s\nAttempts:    %d\nStatus:      %d\nReason:      %s\n",
				d.BodySize, orDash(d.CallbackURL), orDash(d.Source), d.EnqueuedAt.UTC().Format(time.RFC3339),
				d.FailedAt.UTC().Format(time.RFC3339), d.Attempts, d.Status, orDash(d.Reason))
			if d.Response != "" {
				fmt.Fprintf(out, "Response:    %s\n", strconv.Quote(d.Response))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&body, "body", false, "print only the request body, raw")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the body base64-encoded)")
	return cmd
}

// bulkOrOne runs one (with CALL_ID) or all (with --all, narrowed by the
// filter flags).
func bulkOrOne(g *globals, use, short, verb string,
	one func(c *client.Client, cmd *cobra.Command, id string) error,
	all func(c *client.Client, cmd *cobra.Command, f client.DeadLetterFilter) (int, error)) *cobra.Command {
	var filter client.DeadLetterFilter
	var everything bool
	cmd := &cobra.Command{
		Use:   use + " [CALL_ID]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usagef(cmd, "%s takes at most one CALL_ID", cmd.Name())
			case len(args) == 1 && (everything || filter != (client.DeadLetterFilter{})):
				return usagef(cmd, "give a CALL_ID or --all, not both")
			case len(args) == 0 && !everything:
				return usagef(cmd, "give a CALL_ID, or --all (optionally with -n/-f)")
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if err := one(c, cmd, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", verb, args[0])
				return nil
			}
			n, err := all(c, cmd, filter)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d dead letter(s)\n", verb, n)
			return nil
		},
	}
	filterFlags(cmd, &filter)
	cmd.Flags().BoolVar(&everything, "all", false, "every dead letter (narrowed by -n/-f)")
	return cmd
}

func newAsyncRedriveCommand(g *globals) *cobra.Command {
	return bulkOrOne(g, "redrive", "Queue dead letters again, with fresh attempts", "Re-driven",
		func(c *client.Client, cmd *cobra.Command, id string) error {
			return c.RedriveDeadLetter(cmd.Context(), id)
		},
		func(c *client.Client, cmd *cobra.Command, f client.DeadLetterFilter) (int, error) {
			return c.RedriveDeadLetters(cmd.Context(), f)
		})
}

func newAsyncPurgeCommand(g *globals) *cobra.Command {
	return bulkOrOne(g, "purge", "Delete dead letters", "Purged",
		func(c *client.Client, cmd *cobra.Command, id string) error {
			return c.PurgeDeadLetter(cmd.Context(), id)
		},
		func(c *client.Client, cmd *cobra.Command, f client.DeadLetterFilter) (int, error) {
			return c.PurgeDeadLetters(cmd.Context(), f)
		})
}

func newAsyncCancelCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel CALL_ID",
		Short: "Remove a queued call before it runs",
		Args:  exactArgs("CALL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			if err := c.CancelAsync(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Canceled %s\n", args[0])
			return nil
		},
	}
}
