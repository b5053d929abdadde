package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

// NewRootCommand returns the sigil command tree. extra commands (such as
// `up`, which lives with the server) are added as they are.
func NewRootCommand(extra ...*cobra.Command) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "sigil",
		Short: "Sigil runs WebAssembly functions behind the OpenFaaS gateway API",
		Long: "Sigil runs WebAssembly (WASI preview 1) functions behind the OpenFaaS gateway API.\n" +
			"`sigil up` starts a node; the other commands talk to a gateway.",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("sigil {{.Version}}\n")
	root.PersistentFlags().StringVarP(&g.gateway, "gateway", "g", "",
		"gateway URL (default $SIGIL_URL, else $OPENFAAS_URL, else "+defaultGateway+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	root.AddCommand(
		newLoginCommand(g), newLogoutCommand(g),
		newPushCommand(g), newArtifactsCommand(g),
		newDeployCommand(g), newRemoveCommand(g), newScaleCommand(g),
		newListCommand(g), newDescribeCommand(g),
		newInvokeCommand(g), newAsyncCommand(g), newLogsCommand(g),
		newSecretCommand(g), newNamespaceCommand(g),
		newVersionCommand(g),
		newKeygenCommand(g), newSignCommand(g), newVerifyCommand(g), newTrustCommand(g),
		newNewCommand(), newBuildCommand(),
	)
	for _, c := range extra {
		if c != nil {
			root.AddCommand(c)
		}
	}
	return root
}

// Run executes root and returns the process exit code. An error is printed
// as one line, "sigil: <message>", on root's error stream (usage errors add
// a second line pointing at --help).
func Run(root *cobra.Command) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	w := root.ErrOrStderr()
	msg := oneLine(err.Error())
	if client.StatusCode(err) == 401 && !errors.As(err, new(*loginError)) {
		msg += " (run 'sigil login')"
	}
	fmt.Fprintf(w, "sigil: %s\n", msg)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.cmd)
	case strings.HasPrefix(msg, "unknown command"):
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", root.CommandPath())
	}
	return 1
}

// oneLine keeps the first line of a message, trimmed.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// usageError is a mistake in the command line rather than a failure.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd.CommandPath(), err: fmt.Errorf(format, args...)}
}

// exactArgs wants n positional arguments, described by names in messages.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef(cmd, "%s wants %d argument(s) (%s), got %d", cmd.Name(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef(cmd, "%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}
