package api

import (
	"net/http"
	goruntime "runtime"

	"github.com/sigilhq/sigil/pkg/client"
)

// ProviderName is how Sigil names itself in /system/info.
const ProviderName = "sigil"

func (g *Gateway) info(w http.ResponseWriter, _ *http.Request) {
	v := g.cfg.Version
	if v.Release == "" {
		v.Release = "dev"
	}
	if v.SHA == "" {
		v.SHA = "unknown"
	}
	writeJSON(w, http.StatusOK, client.GatewayInfo{
		Provider: &client.ProviderInfo{Name: ProviderName, Orchestration: "wasm", Version: &v},
		Version:  &v,
		Arch:     goruntime.GOARCH,
	})
}
