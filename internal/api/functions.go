package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/pkg/client"
)

const maxJSONBody = 1 << 20

// decodeJSON reads a bounded JSON body into v and answers 400/413 itself
// when it cannot.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			textError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxJSONBody))
			return false
		}
		textError(w, http.StatusBadRequest, "read request body: "+err.Error())
		return false
	}
	if len(b) == 0 {
		textError(w, http.StatusBadRequest, "request body is empty: a JSON object is required")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		textError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

// namespaceOf picks the namespace from the body, else the query string, else
// the default, and checks it exists.
func (g *Gateway) namespaceOf(w http.ResponseWriter, r *http.Request, fromBody string) (string, bool) {
	ns := fromBody
	if ns == "" {
		ns = r.URL.Query().Get("namespace")
	}
	if ns == "" {
		ns = registry.DefaultNamespace
	}
	if err := registry.ValidateNamespaceName(ns); err != nil {
		textError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	if _, ok := g.cfg.Registry.Namespace(ns); !ok {
		textError(w, http.StatusBadRequest, fmt.Sprintf("namespace not found: %s", ns))
		return "", false
	}
	return ns, true
}

func (g *Gateway) status(f registry.Function) client.FunctionStatus {
	labels, annotations := f.Labels, f.Annotations
	var avail uint64
	switch {
	case effectiveABI(&f) == abi.Pooled:
		avail = g.availablePooled(&f) // warm instances actually started
	case f.Replicas > 0 && g.cfg.Runtime.Compiled(f.Digest):
		avail = f.Replicas
	}
	kind := string(effectiveABI(&f))
	st := client.FunctionStatus{
		Name:                   f.Name,
		Image:                  f.Image,
		Namespace:              f.Namespace,
		EnvProcess:             f.EnvProcess,
		EnvVars:                f.EnvVars,
		Constraints:            f.Constraints,
		Secrets:                f.Secrets,
		Labels:                 &labels,
		Annotations:            &annotations,
		ReadOnlyRootFilesystem: f.ReadOnlyRootFilesystem,
		InvocationCount:        float64(g.invocations(f.Name + "." + f.Namespace)),
		Replicas:               f.Replicas,
		AvailableReplicas:      avail,
		CreatedAt:              f.CreatedAt,
		Digest:                 f.Digest,
		ABI:                    kind,
	}
	if len(st.EnvVars) == 0 {
		st.EnvVars = nil
	}
	if f.Limits != nil {
		st.Limits = &client.FunctionResources{Memory: f.Limits.Memory, CPU: f.Limits.CPU}
	}
	if f.Requests != nil {
		st.Requests = &client.FunctionResources{Memory: f.Requests.Memory, CPU: f.Requests.CPU}
	}
	return st
}

func (g *Gateway) listFunctions(w http.ResponseWriter, r *http.Request) {
	ns, ok := g.namespaceOf(w, r, "")
	if !ok {
		return
	}
	fns := g.cfg.Registry.Functions(ns)
	out := make([]client.FunctionStatus, 0, len(fns))
	for _, f := range fns {
		out = append(out, g.status(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) getFunction(w http.ResponseWriter, r *http.Request) {
	ns, ok := g.namespaceOf(w, r, "")
	if !ok {
		return
	}
	name := r.PathValue("name")
	f, found := g.cfg.Registry.Function(ns, name)
	if !found {
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	st := g.status(f)
	if r.URL.Query().Get("usage") != "" {
		st.Usage = &client.FunctionUsage{} // Sigil does not meter per-function CPU/RSS yet
	}
	writeJSON(w, http.StatusOK, st)
}

func (g *Gateway) deployFunction(w http.ResponseWriter, r *http.Request) { g.deploy(w, r, false) }
func (g *Gateway) updateFunction(w http.ResponseWriter, r *http.Request) { g.deploy(w, r, true) }

// deploy validates a FunctionDeployment, resolves its image to an artifact
// digest and stores the function. POST creates, PUT updates (404 when absent,
// which faas-cli relies on to fall back to POST).
func (g *Gateway) deploy(w http.ResponseWriter, r *http.Request, update bool) {
	var d client.FunctionDeployment
	if !decodeJSON(w, r, &d) {
		return
	}
	ns, ok := g.namespaceOf(w, r, d.Namespace)
	if !ok {
		return
	}
	if err := registry.ValidateFunctionName(d.Service); err != nil {
		textError(w, http.StatusBadRequest, err.Error())
		return
	}
	if update {
		if _, exists := g.cfg.Registry.Function(ns, d.Service); !exists {
			textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", d.Service, ns))
			return
		}
	}
	if d.Image == "" {
		textError(w, http.StatusBadRequest, "image is required: push a module with 'sigil push' and pass its tag or digest")
		return
	}
	art, err := g.cfg.Artifacts.Resolve(r.Context(), d.Image)
	switch {
	case errors.Is(err, artifact.ErrInvalidRef):
		textError(w, http.StatusBadRequest, "invalid image reference: "+err.Error())
		return
	case errors.Is(err, artifact.ErrNotFound):
		textError(w, http.StatusBadRequest, "image not found: push it with 'sigil push'")
		return
	case err != nil:
		textError(w, http.StatusInternalServerError, "resolve image: "+err.Error())
		return
	}
	signer, ok := g.deployTrust(w, r, ns, art.Digest)
	if !ok {
		return
	}
	for _, s := range d.Secrets {
		if _, ok := g.cfg.Registry.Secret(ns, s); !ok {
			textError(w, http.StatusBadRequest, fmt.Sprintf("secret not found: %s (create it with 'sigil secret create %s')", s, s))
			return
		}
	}
	if d.Limits != nil && d.Limits.Memory != "" {
		if _, err := parseMemory(d.Limits.Memory); err != nil {
			textError(w, http.StatusBadRequest, "limits.memory: "+err.Error())
			return
		}
	}
	if v, ok := d.EnvVars["exec_timeout"]; ok {
		if _, err := parseTimeout(v); err != nil {
			textError(w, http.StatusBadRequest, "envVars: "+err.Error())
			return
		}
	}
	labels := map[string]string{}
	if d.Labels != nil {
		for k, v := range *d.Labels {
			labels[k] = v
		}
	}
	labels["faas_function"] = d.Service
	annotations := map[string]string{}
	if d.Annotations != nil {
		for k, v := range *d.Annotations {
			annotations[k] = v
		}
	}
	if v, ok := annotations[AnnotationABI]; ok {
		k, err := abi.ParseKind(v)
		if err != nil {
			textError(w, http.StatusBadRequest, "annotation "+AnnotationABI+": "+err.Error())
			return
		}
		annotations[AnnotationABI] = string(k)
	}
	if v, ok := labels["com.openfaas.scale.min"]; ok {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			textError(w, http.StatusBadRequest, fmt.Sprintf("label com.openfaas.scale.min: %q is not a non-negative integer", v))
			return
		}
	}
	f := registry.Function{
		Name:                   d.Service,
		Namespace:              ns,
		Image:                  d.Image,
		Digest:                 art.Digest,
		ABI:                    art.ABI,
		EnvProcess:             d.EnvProcess,
		EnvVars:                d.EnvVars,
		Constraints:            d.Constraints,
		Secrets:                d.Secrets,
		Labels:                 labels,
		Annotations:            annotations,
		ReadOnlyRootFilesystem: d.ReadOnlyRootFilesystem,
	}
	if d.Limits != nil {
		f.Limits = &registry.Resources{Memory: d.Limits.Memory, CPU: d.Limits.CPU}
	}
	if d.Requests != nil {
		f.Requests = &registry.Resources{Memory: d.Requests.Memory, CPU: d.Requests.CPU}
	}
	old, _ := g.cfg.Registry.Function(ns, d.Service)
	if update {
		f.Replicas = old.Replicas
		if f.Replicas == 0 {
			f.Replicas = minReplicas(labels)
		}
		_, err = g.cfg.Registry.UpdateFunction(r.Context(), f)
	} else {
		f.Replicas = minReplicas(labels)
		_, err = g.cfg.Registry.CreateFunction(r.Context(), f)
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", d.Service, ns))
		return
	case errors.Is(err, registry.ErrExists):
		textError(w, http.StatusConflict, fmt.Sprintf("function already exists: %s.%s (deploy with update, i.e. PUT)", d.Service, ns))
		return
	case errors.Is(err, registry.ErrInvalid):
		textError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		textError(w, http.StatusInternalServerError, "store function: "+err.Error())
		return
	}
	action := tlog.ActionDeploy
	if update {
		action = tlog.ActionUpdate
	}
	rec := tlog.Record{Namespace: ns, Function: d.Service, Digest: art.Digest, SignerKey: signer, Action: action}
	logIndex, err := g.logAction(w, r, rec)
	if err != nil {
		// Roll back so no function runs without its record in the log.
		ctx := context.WithoutCancel(r.Context())
		var rbErr error
		if update {
			_, rbErr = g.cfg.Registry.UpdateFunction(ctx, old)
		} else {
			rbErr = g.cfg.Registry.DeleteFunction(ctx, ns, d.Service)
		}
		if rbErr != nil {
			g.log.Error("could not roll back an unlogged deploy", "function", d.Service, "namespace", ns, "err", rbErr)
		}
		notLogged(w, rec, err)
		return
	}
	g.log.Info("function deployed", "function", d.Service, "namespace", ns, "digest", art.Digest, "update", update,
		"signer", signer, "log_index", logIndex)
	w.WriteHeader(http.StatusAccepted)
}

func (g *Gateway) deleteFunction(w http.ResponseWriter, r *http.Request) {
	var req client.DeleteFunctionRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	ns, ok := g.namespaceOf(w, r, req.Namespace)
	if !ok {
		return
	}
	if req.FunctionName == "" {
		textError(w, http.StatusBadRequest, "functionName is required")
		return
	}
	prev, _ := g.cfg.Registry.Function(ns, req.FunctionName)
	err := g.cfg.Registry.DeleteFunction(r.Context(), ns, req.FunctionName)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", req.FunctionName, ns))
		return
	case err != nil:
		textError(w, http.StatusInternalServerError, "delete function: "+err.Error())
		return
	}
	rec := tlog.Record{Namespace: ns, Function: req.FunctionName, Digest: prev.Digest, Action: tlog.ActionRemove}
	if _, err := g.logAction(w, r, rec); err != nil {
		if prev.Name != "" {
			if _, rbErr := g.cfg.Registry.CreateFunction(context.WithoutCancel(r.Context()), prev); rbErr != nil {
				g.log.Error("could not roll back an unlogged remove", "function", req.FunctionName, "namespace", ns, "err", rbErr)
			}
		}
		notLogged(w, rec, err)
		return
	}
	g.log.Info("function removed", "function", req.FunctionName, "namespace", ns)
	w.WriteHeader(http.StatusAccepted)
}

// scaleFunction stores the desired replicas (warm capacity, see
// docs/RATIONALE.md); 0 is allowed and frees the compiled code.
func (g *Gateway) scaleFunction(w http.ResponseWriter, r *http.Request) {
	var req client.ScaleServiceRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	ns, ok := g.namespaceOf(w, r, req.Namespace)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if req.ServiceName != "" && req.ServiceName != name {
		textError(w, http.StatusBadRequest, fmt.Sprintf("serviceName %q does not match the path's %q", req.ServiceName, name))
		return
	}
	_, err := g.cfg.Registry.ScaleFunction(r.Context(), ns, name, req.Replicas)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	case err != nil:
		textError(w, http.StatusInternalServerError, "scale function: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
