package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
)

// AnnotationABI overrides the artifact's ABI for one function.
const AnnotationABI = "com.sigil.abi"

// splitFunction splits "name.namespace" at the last dot, as OpenFaaS does.
func splitFunction(s string) (name, namespace string) {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, registry.DefaultNamespace
}

func allowedMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodHead:
		return true
	}
	return false
}

// invoke serves /function/{name}[.{namespace}][/{path}]: one fresh instance
// per request.
func (g *Gateway) invoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fnSeg := r.PathValue("fn")
	name, ns := splitFunction(fnSeg)
	if !allowedMethod(r.Method) {
		w.Header().Set("Allow", "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD")
		textError(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	f, ok := g.cfg.Registry.Function(ns, name)
	if !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	label := name + "." + ns

	callID := r.Header.Get("X-Call-Id")
	if callID == "" {
		callID = uuid.NewString()
		r.Header.Set("X-Call-Id", callID)
	}
	startNanos := strconv.FormatInt(start.UnixNano(), 10)
	r.Header.Set("X-Start-Time", startNanos)
	if r.Header.Get("X-Forwarded-Host") == "" && r.Host != "" {
		r.Header.Set("X-Forwarded-Host", r.Host)
	}
	if r.Header.Get("X-Forwarded-For") == "" {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			r.Header.Set("X-Forwarded-For", host)
		}
	}
	h := w.Header()
	h.Set("X-Call-Id", callID)
	h.Set("X-Start-Time", startNanos)

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.finish(w, label, start, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body exceeds the %d byte limit", g.cfg.MaxBodyBytes))
			return
		}
		g.finish(w, label, start, http.StatusBadRequest, "read request body: "+err.Error())
		return
	}

	kind := abi.Kind(f.ABI)
	if v, ok := f.Annotations[AnnotationABI]; ok {
		kind = abi.Kind(v) // validated at deploy
	}
	if kind == "" {
		kind = abi.OpenFaaS
	}
	areq := abiRequest(r, fnSeg, int64(len(body)))
	if kind == abi.WAGI && areq.ContentLength < 0 {
		areq.ContentLength = int64(len(body)) // CGI's CONTENT_LENGTH is the buffered body's
	}
	afn := &abi.Function{Name: f.Name, Namespace: f.Namespace, EnvProcess: f.EnvProcess, EnvVars: f.EnvVars}
	inv := abi.Prepare(kind, areq, afn)

	spec := &runtime.Spec{
		Digest:      f.Digest,
		Args:        inv.Args,
		Env:         inv.Env,
		Stdin:       body,
		MemoryLimit: g.memoryLimit(&f),
		Timeout:     g.timeout(&f),
		MaxStdout:   g.cfg.MaxStdout,
	}
	if len(f.Secrets) > 0 {
		spec.Secrets = g.secretsFS(&f)
	}
	if g.cfg.Logs != nil {
		logs, inst := g.cfg.Logs, g.cfg.NodeName
		spec.Stderr = func(line string) { logs.Append(ns, name, inst, line) }
	}
	if f.Replicas == 0 {
		g.scaleFromZero(f)
	}

	g.count(label).Add(1)
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Started(label)
	}
	out, err := g.cfg.Runtime.Invoke(r.Context(), spec)
	if err != nil {
		status, msg, reason := g.invokeError(err, spec)
		if g.cfg.Metrics != nil {
			g.cfg.Metrics.GuestError(label, reason)
		}
		if g.cfg.Logs != nil && reason != "client_gone" {
			g.cfg.Logs.Append(ns, name, g.cfg.NodeName, fmt.Sprintf("call %s: %s", callID, msg))
		}
		if status == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		g.finish(w, label, start, status, msg)
		return
	}
	resp := abi.Compose(kind, areq, afn, abi.Result{ExitCode: out.ExitCode, Stdout: out.Stdout})
	if resp.Err != nil && g.cfg.Logs != nil {
		g.cfg.Logs.Append(ns, name, g.cfg.NodeName, fmt.Sprintf("call %s: %d: %v", callID, resp.Status, resp.Err))
	}
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set("X-Duration-Seconds", formatSeconds(time.Since(start)))
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.Body)
	}
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Finished(label, resp.Status, time.Since(start))
	}
}

// finish writes a gateway-made (not function-made) answer and records it.
func (g *Gateway) finish(w http.ResponseWriter, label string, start time.Time, status int, msg string) {
	w.Header().Set("X-Duration-Seconds", formatSeconds(time.Since(start)))
	textError(w, status, msg)
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Finished(label, status, time.Since(start))
	}
}

func formatSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

// invokeError maps a runtime failure to a status, a one-line message for the
// client and a metrics reason.
func (g *Gateway) invokeError(err error, spec *runtime.Spec) (status int, msg, reason string) {
	var trap *runtime.TrapError
	switch {
	case errors.Is(err, runtime.ErrTimeout):
		return http.StatusGatewayTimeout, fmt.Sprintf("function timed out after %s (exec_timeout)", spec.Timeout), "timeout"
	case errors.Is(err, runtime.ErrOutputLimit):
		return http.StatusBadGateway, fmt.Sprintf("function output exceeded the %d byte limit", spec.MaxStdout), "output_limit"
	case errors.Is(err, runtime.ErrMemoryLimit):
		return http.StatusInternalServerError, fmt.Sprintf("function exceeded its memory limit of %d bytes (limits.memory)", spec.MemoryLimit), "memory_limit"
	case errors.Is(err, runtime.ErrBusy):
		return http.StatusServiceUnavailable, "node is at its instance limit, retry later", "busy"
	case errors.As(err, &trap):
		return http.StatusInternalServerError, "function trapped: " + firstLine(trap.Msg), "trap"
	case errors.Is(err, runtime.ErrNotFound):
		return http.StatusBadGateway, "function artifact is missing from the artifact store", "missing_artifact"
	case errors.Is(err, runtime.ErrDigestMismatch):
		return http.StatusBadGateway, "function artifact failed its digest check and was not run", "digest_mismatch"
	case errors.Is(err, context.Canceled):
		return 499, "client closed the request", "client_gone"
	}
	g.log.Error("invoke failed", "err", err)
	return http.StatusInternalServerError, "invoke failed: " + firstLine(err.Error()), "error"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}

// abiRequest converts r for the ABI; fnSeg is the "{name}[.{ns}]" segment.
func abiRequest(r *http.Request, fnSeg string, bodyLen int64) *abi.Request {
	prefix := "/function/" + fnSeg
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if path == "" {
		path = "/"
	}
	var rawPath string
	if r.URL.RawPath != "" {
		ep := r.URL.EscapedPath()
		if i := strings.IndexByte(ep[len("/function/"):], '/'); i >= 0 {
			rawPath = ep[len("/function/")+i:]
		}
	}
	cl := r.ContentLength
	if cl < 0 && len(r.TransferEncoding) == 0 {
		cl = bodyLen
	}
	return &abi.Request{
		Method:        r.Method,
		Proto:         r.Proto,
		Host:          r.Host,
		Path:          path,
		RawPath:       rawPath,
		RawQuery:      r.URL.RawQuery,
		Header:        r.Header,
		ContentLength: cl,
		RemoteAddr:    r.RemoteAddr,
		TLS:           r.TLS != nil,
		ScriptName:    prefix,
	}
}

func (g *Gateway) memoryLimit(f *registry.Function) uint64 {
	if f.Limits != nil && f.Limits.Memory != "" {
		if b, err := parseMemory(f.Limits.Memory); err == nil {
			return b
		}
	}
	return g.cfg.DefaultMemory
}

func (g *Gateway) timeout(f *registry.Function) time.Duration {
	if v, ok := f.EnvVars["exec_timeout"]; ok {
		if d, err := parseTimeout(v); err == nil {
			return d
		}
	}
	return g.cfg.DefaultTimeout
}

// secretsFS is the read-only view of f's secrets, mounted by the runtime at
// /var/openfaas/secrets. It is built per request from the registry cache so
// a secret update is seen by the very next invocation.
func (g *Gateway) secretsFS(f *registry.Function) fs.FS {
	files := make(map[string][]byte, len(f.Secrets))
	for _, s := range f.Secrets {
		if sec, ok := g.cfg.Registry.Secret(f.Namespace, s); ok {
			files[s] = sec.Value
		}
	}
	return newSecretFS(files)
}

// scaleFromZero brings a function scaled to zero back to its minimum warm
// capacity. The request itself does not wait: the runtime compiles on miss.
func (g *Gateway) scaleFromZero(f registry.Function) {
	key := f.Namespace + "/" + f.Name
	if _, busy := g.scalingUp.LoadOrStore(key, struct{}{}); busy {
		return
	}
	go func() {
		defer g.scalingUp.Delete(key)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := g.cfg.Registry.ScaleFunction(ctx, f.Namespace, f.Name, minReplicas(f.Labels)); err != nil {
			g.log.Warn("scale from zero failed", "function", f.Name, "namespace", f.Namespace, "err", err)
		}
	}()
}

// minReplicas reads com.openfaas.scale.min (default 1, never below 1).
func minReplicas(labels map[string]string) uint64 {
	if v, ok := labels["com.openfaas.scale.min"]; ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n >= 1 {
			return n
		}
	}
	return 1
}
