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
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
)

// AnnotationABI overrides the artifact's ABI for one function.
const AnnotationABI = "com.sigil.abi"

// ErrFunctionNotFound is returned by Call when no such function is deployed.
var ErrFunctionNotFound = errors.New("function not found")

// CallRequest is one invocation as the sync handler and the async workers
// hand it to Call: the HTTP request already read into memory.
type CallRequest struct {
	Method   string
	Proto    string // "" is taken as HTTP/1.1
	Host     string
	Path     string // the remainder after /function/{fn}; "" is taken as "/"
	RawPath  string // escaped form of Path when it differs from the default, else ""
	RawQuery string
	// Header is passed to the function. Call sets X-Call-Id and X-Start-Time
	// in it (so it must not be shared with another goroutine).
	Header http.Header
	// ContentLength as the client announced it; -1 when unknown (chunked).
	ContentLength int64
	RemoteAddr    string
	TLS           bool
	// Route is the "{name}[.{namespace}]" segment the function was addressed
	// by (the base of SCRIPT_NAME); "" means "name.namespace".
	Route string
	Body  []byte
	// CallID identifies the call in headers and logs; "" makes a new one.
	CallID string
	// Start is when the call began (X-Start-Time, durations); zero is now.
	Start time.Time
	// Stream, when set, receives a pooled function's response as the guest
	// flushes it (the HTTP handler streams it on); other ABIs ignore it.
	Stream Stream
}

// CallResult is the answer of one call, whoever produced it.
type CallResult struct {
	Status int
	Header http.Header // never nil; includes X-Call-Id, X-Start-Time, X-Duration-Seconds
	Body   []byte
	// Duration is the time from Start to the end of the run.
	Duration time.Duration
	// Gateway is true when the gateway made the answer (timeout, trap,
	// busy…), false when it is the function's own response.
	Gateway bool
	// Reason is the metrics reason of a gateway-made failure ("timeout",
	// "busy", "client_gone"…); "" otherwise.
	Reason string
	// Streamed is true when the response head already went to req.Stream.
	Streamed bool
}

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

// invoke serves /function/{name}[.{namespace}][/{path}]: a thin HTTP
// wrapper around Call.
func (g *Gateway) invoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fnSeg := r.PathValue("fn")
	name, ns := splitFunction(fnSeg)
	if !allowedMethod(r.Method) {
		w.Header().Set("Allow", "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD")
		textError(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	if _, ok := g.cfg.Registry.Function(ns, name); !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	label := name + "." + ns

	callID := r.Header.Get("X-Call-Id")
	if callID == "" {
		callID = uuid.NewString()
	}
	startNanos := strconv.FormatInt(start.UnixNano(), 10)
	setForwarded(r)
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

	creq := httpCallRequest(r, "/function/", fnSeg, body)
	creq.CallID, creq.Start = callID, start
	creq.Stream = &httpStream{w: w, head: r.Method == http.MethodHead}
	res, err := g.Call(r.Context(), ns, name, creq)
	if err != nil { // removed between the check above and the call
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	if res.Streamed {
		if res.Gateway {
			// The head already went out: the only honest signal left is to
			// cut the connection so the client sees an incomplete response.
			panic(http.ErrAbortHandler)
		}
		return
	}
	for k, v := range res.Header {
		h[k] = v
	}
	if res.Gateway {
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(res.Body)))
	w.WriteHeader(res.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(res.Body)
	}
}

// setForwarded records the client in X-Forwarded-Host/-For unless a proxy
// already did.
func setForwarded(r *http.Request) {
	if r.Header.Get("X-Forwarded-Host") == "" && r.Host != "" {
		r.Header.Set("X-Forwarded-Host", r.Host)
	}
	if r.Header.Get("X-Forwarded-For") == "" {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			r.Header.Set("X-Forwarded-For", host)
		}
	}
}

// Call runs one request against function ns/name: lookup → ABI → runtime →
// compose. It is the single invocation path of the node: the sync handler,
// async workers and triggers all come through here, so they share metrics,
// logs, limits and scale-from-zero. Failures of the run are answered in the
// result (Gateway set); the only error is ErrFunctionNotFound.
func (g *Gateway) Call(ctx context.Context, ns, name string, req *CallRequest) (CallResult, error) {
	f, ok := g.cfg.Registry.Function(ns, name)
	if !ok {
		return CallResult{}, fmt.Errorf("%s.%s: %w", name, ns, ErrFunctionNotFound)
	}
	label := name + "." + ns
	start := req.Start
	if start.IsZero() {
		start = time.Now()
	}
	if req.CallID == "" {
		req.CallID = uuid.NewString()
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	startNanos := strconv.FormatInt(start.UnixNano(), 10)
	req.Header.Set("X-Call-Id", req.CallID)
	req.Header.Set("X-Start-Time", startNanos)
	out := http.Header{"X-Call-Id": {req.CallID}, "X-Start-Time": {startNanos}}

	if f.Replicas == 0 {
		g.scaleFromZero(f)
	}
	st := g.stats(ns, name, label)
	st.requests.Add(1)
	st.inflight.Add(1)
	defer st.inflight.Add(-1)
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Started(label)
	}

	kind := effectiveABI(&f)
	if kind == abi.Pooled {
		res := g.callPooled(ctx, &f, req, out)
		if res.Reason != "" && g.cfg.Metrics != nil {
			g.cfg.Metrics.GuestError(label, res.Reason)
		}
		return g.done(label, start, res), nil
	}
	areq := req.abiRequest(label)
	if kind == abi.WAGI && areq.ContentLength < 0 {
		areq.ContentLength = int64(len(req.Body)) // CGI's CONTENT_LENGTH is the buffered body's
	}
	afn := &abi.Function{Name: f.Name, Namespace: f.Namespace, EnvProcess: f.EnvProcess, EnvVars: f.EnvVars}
	inv := abi.Prepare(kind, areq, afn)

	spec := &runtime.Spec{
		Digest:      f.Digest,
		Args:        inv.Args,
		Env:         inv.Env,
		Stdin:       req.Body,
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
	res, err := g.cfg.Runtime.Invoke(ctx, spec)
	if err != nil {
		status, msg, reason := g.invokeError(err, spec)
		if g.cfg.Metrics != nil {
			g.cfg.Metrics.GuestError(label, reason)
		}
		if g.cfg.Logs != nil && reason != "client_gone" {
			g.cfg.Logs.Append(ns, name, g.cfg.NodeName, fmt.Sprintf("call %s: %s", req.CallID, msg))
		}
		if status == http.StatusServiceUnavailable {
			out.Set("Retry-After", "1")
		}
		out.Set("Content-Type", "text/plain; charset=utf-8")
		out.Set("X-Content-Type-Options", "nosniff")
		return g.done(label, start, CallResult{Status: status, Header: out, Body: []byte(msg + "\n"), Gateway: true, Reason: reason}), nil
	}
	resp := abi.Compose(kind, areq, afn, abi.Result{ExitCode: res.ExitCode, Stdout: res.Stdout})
	if resp.Err != nil && g.cfg.Logs != nil {
		g.cfg.Logs.Append(ns, name, g.cfg.NodeName, fmt.Sprintf("call %s: %d: %v", req.CallID, resp.Status, resp.Err))
	}
	for k, v := range resp.Header {
		out[k] = v
	}
	return g.done(label, start, CallResult{Status: resp.Status, Header: out, Body: resp.Body}), nil
}

// done stamps the duration on a finished call and records it.
func (g *Gateway) done(label string, start time.Time, res CallResult) CallResult {
	res.Duration = time.Since(start)
	res.Header.Set("X-Duration-Seconds", formatSeconds(res.Duration))
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Finished(label, res.Status, res.Duration)
	}
	return res
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
	if status, msg, reason, ok := pooledError(err); ok {
		return status, msg, reason
	}
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

// httpCallRequest converts r, whose body has been read, for Call; base is
// the route ("/function/" or "/async-function/") and fnSeg the
// "{name}[.{ns}]" segment after it. The call id and start are the caller's.
func httpCallRequest(r *http.Request, base, fnSeg string, body []byte) *CallRequest {
	path := strings.TrimPrefix(r.URL.Path, base+fnSeg)
	var rawPath string
	if r.URL.RawPath != "" {
		ep := r.URL.EscapedPath()
		if i := strings.IndexByte(ep[len(base):], '/'); i >= 0 {
			rawPath = ep[len(base)+i:]
		}
	}
	cl := r.ContentLength
	if cl < 0 && len(r.TransferEncoding) == 0 {
		cl = int64(len(body))
	}
	return &CallRequest{
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
		Route:         fnSeg,
		Body:          body,
	}
}

// abiRequest converts the call for the ABI; label is "name.namespace".
func (c *CallRequest) abiRequest(label string) *abi.Request {
	route := c.Route
	if route == "" {
		route = label
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	return &abi.Request{
		Method:        c.Method,
		Proto:         c.Proto,
		Host:          c.Host,
		Path:          path,
		RawPath:       c.RawPath,
		RawQuery:      c.RawQuery,
		Header:        c.Header,
		ContentLength: c.ContentLength,
		RemoteAddr:    c.RemoteAddr,
		TLS:           c.TLS,
		ScriptName:    "/function/" + route,
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
// /var/openfaas/secrets. It is built once per set of secret versions (the
// stamp changes with any secret's UpdatedAt), so a secret update is seen by
// the very next invocation and an unchanged one costs a map lookup.
func (g *Gateway) secretsFS(f *registry.Function) fs.FS {
	key, stamp := poolKey(f), g.secretsStamp(f)
	g.secretFSs.mu.Lock()
	defer g.secretFSs.mu.Unlock()
	if c, ok := g.secretFSs.m[key]; ok && c.stamp == stamp {
		return c.fs
	}
	files := make(map[string][]byte, len(f.Secrets))
	for _, s := range f.Secrets {
		if sec, ok := g.cfg.Registry.Secret(f.Namespace, s); ok {
			files[s] = sec.Value
		}
	}
	sfs := newSecretFS(files)
	g.secretFSs.m[key] = secretFSEntry{stamp: stamp, fs: sfs}
	return sfs
}

type secretFSEntry struct {
	stamp string
	fs    fs.FS
}

type secretFSCache struct {
	mu sync.Mutex
	m  map[string]secretFSEntry // "ns/name" → the FS built for a stamp
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

// httpStream writes a pooled function's response to the client as the
// guest flushes it.
type httpStream struct {
	w    http.ResponseWriter
	head bool // HEAD request: no body
}

func (s *httpStream) Head(status int, h http.Header) error {
	dst := s.w.Header()
	for k, v := range h {
		dst[k] = v
	}
	s.w.WriteHeader(status)
	return nil
}

func (s *httpStream) Chunk(p []byte) error {
	if s.head {
		return nil
	}
	if _, err := s.w.Write(p); err != nil {
		return err
	}
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}
