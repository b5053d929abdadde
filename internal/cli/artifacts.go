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

func newArtifactsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "artifacts",
		Short: "List pushed artifacts: digest, ABI, size, tags",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client("")
			if err != nil {
				return err
			}
			as, err := c.ListArtifacts(cmd.Context())
			if err != nil {
				return err
			}
			slices.SortFunc(as, func(a, b client.Artifact) int { return cmp.Compare(a.Digest, b.Digest) })
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "Digest\tABI\tSize\tTags\tCreated")
			for _, a := range as {
				created := "-"
				if !a.Created.IsZero() {
					created = a.Created.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", a.Digest, orDash(a.ABI), a.Size, orDash(strings.Join(a.Tags, ",")), created)
			}
			return tw.Flush()
		},
	}
}
