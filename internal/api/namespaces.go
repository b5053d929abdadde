package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/pkg/client"
)

func (g *Gateway) listNamespaces(w http.ResponseWriter, _ *http.Request) {
	nss := g.cfg.Registry.Namespaces()
	out := make([]string, 0, len(nss))
	for _, n := range nss {
		out = append(out, n.Name)
	}
	writeJSON(w, http.StatusOK, out)
}

func nsStatus(n registry.Namespace) client.FunctionNamespace {
	return client.FunctionNamespace{Name: n.Name, Labels: n.Labels, Annotations: n.Annotations}
}

func (g *Gateway) getNamespace(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("ns")
	n, ok := g.cfg.Registry.Namespace(name)
	if !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("namespace not found: %s", name))
		return
	}
	writeJSON(w, http.StatusOK, nsStatus(n))
}

// namespaceBody decodes a FunctionNamespace and applies the faasd rules: the
// name comes from the body (or the path), and the label openfaas=1 must be
// present, which is how OpenFaaS marks namespaces it may manage.
func namespaceBody(w http.ResponseWriter, r *http.Request) (registry.Namespace, bool) {
	var in client.FunctionNamespace
	if !decodeJSON(w, r, &in) {
		return registry.Namespace{}, false
	}
	if p := r.PathValue("ns"); p != "" {
		if in.Name == "" {
			in.Name = p
		} else if in.Name != p {
			textError(w, http.StatusBadRequest, fmt.Sprintf("namespace name %q in the body does not match %q in the path", in.Name, p))
			return registry.Namespace{}, false
		}
	}
	if err := registry.ValidateNamespaceName(in.Name); err != nil {
		textError(w, http.StatusBadRequest, err.Error())
		return registry.Namespace{}, false
	}
	if in.Labels["openfaas"] != "1" && in.Labels["openfaas"] != "true" {
		textError(w, http.StatusBadRequest, `namespace must carry the label openfaas=1`)
		return registry.Namespace{}, false
	}
	return registry.Namespace{Name: in.Name, Labels: in.Labels, Annotations: in.Annotations}, true
}

func (g *Gateway) createNamespace(w http.ResponseWriter, r *http.Request) {
	n, ok := namespaceBody(w, r)
	if !ok {
		return
	}
	err := g.cfg.Registry.CreateNamespace(r.Context(), n)
	switch {
	case errors.Is(err, registry.ErrExists):
		textError(w, http.StatusConflict, fmt.Sprintf("namespace already exists: %s", n.Name))
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		textError(w, http.StatusInternalServerError, "create namespace: "+err.Error())
	default:
		w.WriteHeader(http.StatusCreated)
	}
}

func (g *Gateway) updateNamespace(w http.ResponseWriter, r *http.Request) {
	n, ok := namespaceBody(w, r)
	if !ok {
		return
	}
	err := g.cfg.Registry.UpdateNamespace(r.Context(), n)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("namespace not found: %s", n.Name))
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		textError(w, http.StatusInternalServerError, "update namespace: "+err.Error())
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (g *Gateway) deleteNamespace(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("ns")
	err := g.cfg.Registry.DeleteNamespace(r.Context(), name)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("namespace not found: %s", name))
	case errors.Is(err, registry.ErrNotEmpty):
		textError(w, http.StatusConflict, fmt.Sprintf("namespace %s still has functions: remove them first", name))
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		textError(w, http.StatusInternalServerError, "delete namespace: "+err.Error())
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}
