package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

// loginError marks failures of login itself, so Run does not suggest
// running login again.
type loginError struct{ err error }

func (e *loginError) Error() string { return e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

func newLoginCommand(g *globals) *cobra.Command {
	var user, password string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Check and store basic-auth credentials for a gateway",
		Long: "login checks the credentials with GET /system/functions and stores them for the gateway in\n" +
			"$SIGIL_CONFIG, else <user config dir>/sigil/config.yml (mode 0600).",
		Example: "  cat ~/sigil-password.txt | sigil login --username admin --password-stdin\n" +
			"  sigil login -g http://10.0.0.2:8080 --password s3cret",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case password != "" && fromStdin:
				return usagef(cmd, "--password and --password-stdin are mutually exclusive")
			case fromStdin:
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("login: read password from stdin: %w", err)
				}
				password = strings.TrimSpace(string(b))
			case password != "":
				fmt.Fprintln(cmd.ErrOrStderr(), "WARNING! --password shows up in shell history and ps; prefer --password-stdin.")
			default:
				return usagef(cmd, "give --password or --password-stdin")
			}
			if user == "" || password == "" {
				return usagef(cmd, "username and password must not be empty")
			}
			gw := resolveGateway(g.gateway, "")
			c := client.New(gw, client.WithBasicAuth(user, password), client.WithUserAgent("sigil/"+Version))
			if _, err := c.ListFunctions(cmd.Context(), ""); err != nil {
				return &loginError{fmt.Errorf("login to %s: %w", gw, err)}
			}
			path, err := configPath()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			cfg.set(gw, user, password)
			if err := cfg.save(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Credentials saved for %s %s in %s\n", user, gw, path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "admin", "user name")
	f.StringVarP(&password, "password", "p", "", "password (prefer --password-stdin)")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func newLogoutCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the stored credentials of a gateway",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gw := resolveGateway(g.gateway, "")
			path, err := configPath()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if !cfg.remove(gw) {
				return &loginError{errors.New("logout: no credentials stored for " + gw)}
			}
			if err := cfg.save(path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Credentials removed for %s\n", gw)
			return nil
		},
	}
}
