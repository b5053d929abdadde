package cli

import (
	"fmt"
	"io"
	"runtime"

	"github.com/sigilhq/sigil/pkg/client"

	"github.com/spf13/cobra"
)

// Build information, set with
// -ldflags "-X github.com/sigilhq/sigil/internal/cli.Version=v1.2.3 -X github.com/sigilhq/sigil/internal/cli.Commit=abc123".
var (
	Version = "dev"
	Commit  = "dev"
)

func newVersionCommand(g *globals) *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client version and the gateway's /system/info",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if short {
				fmt.Fprintln(out, Version)
				return nil
			}
			fmt.Fprintf(out, "Client\n version: %s\n commit:  %s\n go:      %s %s/%s\n",
				Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			c, err := g.client("")
			if err != nil {
				return err
			}
			info, err := c.Info(cmd.Context())
			if err != nil {
				return fmt.Errorf("gateway %s: %w", c.Gateway(), err)
			}
			fmt.Fprintf(out, "\nGateway\n uri:     %s\n", c.Gateway())
			printVersion(out, info.Version)
			if info.Arch != "" {
				fmt.Fprintf(out, " arch:    %s\n", info.Arch)
			}
			if p := info.Provider; p != nil {
				fmt.Fprintf(out, "\nProvider\n name:          %s\n orchestration: %s\n", p.Name, p.Orchestration)
				printVersion(out, p.Version)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&short, "short-version", false, "print only the client version, without asking the gateway")
	return cmd
}

func printVersion(w io.Writer, v *client.VersionInfo) {
	if v == nil {
		return
	}
	fmt.Fprintf(w, " version: %s\n sha:     %s\n", v.Release, v.SHA)
}
