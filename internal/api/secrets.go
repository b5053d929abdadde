package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/pkg/client"
)

func (g *Gateway) listSecrets(w http.ResponseWriter, r *http.Request) {
	ns, ok := g.namespaceOf(w, r, "")
	if !ok {
		return
	}
	secs := g.cfg.Registry.Secrets(ns)
	out := make([]client.Secret, 0, len(secs))
	for _, s := range secs {
		out = append(out, client.Secret{Name: s.Name, Namespace: s.Namespace}) // never values
	}
	writeJSON(w, http.StatusOK, out)
}

// secretBody decodes and validates a secret create/update body. `value`
// wins unless empty, then `rawValue` (as faasd does).
func (g *Gateway) secretBody(w http.ResponseWriter, r *http.Request) (registry.Secret, bool) {
	var s client.Secret
	if !decodeJSON(w, r, &s) {
		return registry.Secret{}, false
	}
	ns, ok := g.namespaceOf(w, r, s.Namespace)
	if !ok {
		return registry.Secret{}, false
	}
	if err := registry.ValidateSecretName(s.Name); err != nil {
		textError(w, http.StatusBadRequest, err.Error())
		return registry.Secret{}, false
	}
	val := []byte(s.Value)
	if s.Value == "" {
		val = s.RawValue
	}
	return registry.Secret{Name: s.Name, Namespace: ns, Value: val}, true
}

func (g *Gateway) createSecret(w http.ResponseWriter, r *http.Request) {
	s, ok := g.secretBody(w, r)
	if !ok {
		return
	}
	err := g.cfg.Registry.CreateSecret(r.Context(), s)
	switch {
	case errors.Is(err, registry.ErrExists):
		textError(w, http.StatusConflict, fmt.Sprintf("secret already exists: %s (update it instead)", s.Name))
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		textError(w, http.StatusInternalServerError, "create secret: "+err.Error())
	default:
		w.WriteHeader(http.StatusCreated)
	}
}

func (g *Gateway) updateSecret(w http.ResponseWriter, r *http.Request) {
	s, ok := g.secretBody(w, r)
	if !ok {
		return
	}
	err := g.cfg.Registry.UpdateSecret(r.Context(), s)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("secret not found: %s", s.Name))
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		textError(w, http.StatusInternalServerError, "update secret: "+err.Error())
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// deleteSecret answers 200, not the spec's 204: faas-cli only accepts 200/202.
func (g *Gateway) deleteSecret(w http.ResponseWriter, r *http.Request) {
	var s client.Secret
	if !decodeJSON(w, r, &s) {
		return
	}
	ns, ok := g.namespaceOf(w, r, s.Namespace)
	if !ok {
		return
	}
	if s.Name == "" {
		textError(w, http.StatusBadRequest, "name is required")
		return
	}
	err := g.cfg.Registry.DeleteSecret(r.Context(), ns, s.Name)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("secret not found: %s", s.Name))
	case err != nil:
		textError(w, http.StatusInternalServerError, "delete secret: "+err.Error())
	default:
		w.WriteHeader(http.StatusOK)
	}
}
