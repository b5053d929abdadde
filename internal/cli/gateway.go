package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
)

const defaultGateway = "http://127.0.0.1:8080"

// globals are the flags every command shares.
type globals struct {
	gateway string // --gateway/-g, empty when not given
}

// resolveGateway picks the gateway URL: --gateway, else the stack file's
// provider.gateway, else $SIGIL_URL, else $OPENFAAS_URL, else the default.
// Like faas-cli it lower-cases the URL and trims trailing slashes; a bare
// host:port gets http://.
func resolveGateway(flag, fromYAML string) string {
	gw := defaultGateway
	for _, v := range []string{flag, fromYAML, os.Getenv("SIGIL_URL"), os.Getenv("OPENFAAS_URL")} {
		if v = strings.TrimSpace(v); v != "" {
			gw = v
			break
		}
	}
	gw = strings.TrimRight(strings.ToLower(gw), "/")
	if !strings.Contains(gw, "://") {
		gw = "http://" + gw
	}
	return gw
}

// client returns a client for the resolved gateway, with the stored
// credentials for it, if any.
func (g *globals) client(fromYAML string) (*client.Client, error) {
	gw := resolveGateway(g.gateway, fromYAML)
	opts := []client.Option{client.WithUserAgent("sigil/" + Version)}
	path, err := configPath()
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	user, pass, ok, err := cfg.lookup(gw)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s in %s: %w", gw, path, err)
	}
	if ok {
		opts = append(opts, client.WithBasicAuth(user, pass))
	}
	return client.New(gw, opts...), nil
}
