package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newLogsCommand(g *globals) *cobra.Command {
	var namespace, instance, sinceTime string
	var since time.Duration
	var lines int
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a function's log lines, following new ones by default",
		Long: "logs prints `<timestamp> <name> (<instance>) <text>` per line. Like faas-cli it follows the\n" +
			"stream until interrupted; --tail=false (or --follow=false) prints what is stored and exits.",
		Example: "  sigil logs hello\n" +
			"  sigil logs hello --tail=false --lines 20\n" +
			"  sigil logs hello --since 5m",
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.LogsRequest{Name: args[0], Namespace: namespace, Instance: instance, Tail: lines, Follow: follow}
			switch {
			case since != 0 && sinceTime != "":
				return usagef(cmd, "--since and --since-time are mutually exclusive")
			case since < 0:
				return usagef(cmd, "--since must be positive")
			case since > 0:
				req.Since = time.Now().Add(-since)
			case sinceTime != "":
				t, err := time.Parse(time.RFC3339, sinceTime)
				if err != nil {
					return usagef(cmd, "--since-time %q: want RFC3339, e.g. 2026-01-02T15:04:05Z", sinceTime)
				}
				req.Since = t
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			err = c.Logs(cmd.Context(), req, func(m client.LogMessage) error {
				_, err := fmt.Fprintf(out, "%s %s (%s) %s\n",
					m.Timestamp.Format(time.RFC3339), m.Name, m.Instance, strings.TrimRight(m.Text, "\r\n"))
				return err
			})
			if err != nil && cmd.Context().Err() != nil {
				return nil // interrupted while following: a normal end
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	f.StringVar(&instance, "instance", "", "only this instance")
	f.IntVar(&lines, "lines", -1, "print at most the last N lines (-1: all)")
	f.DurationVar(&since, "since", 0, "only lines newer than this, e.g. 5m")
	f.StringVar(&sinceTime, "since-time", "", "only lines after this RFC3339 time")
	f.BoolVar(&follow, "tail", true, "keep following new lines (faas-cli's name for --follow)")
	f.BoolVar(&follow, "follow", true, "keep following new lines")
	return cmd
}
