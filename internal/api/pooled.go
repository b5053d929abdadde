package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/autoscale"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
)

// Stream receives a pooled response as the guest flushes it (the HTTP
// handler streams to its client; async workers buffer instead).
type Stream = runtime.Stream

// poolRevs caches each pooled function's spec revision so a request does
// not hash the spec: key "ns/name" → the registry revision and secrets stamp
// it was computed for.
type poolRev struct {
	fnRev   uint64
	secrets string
	rev     string
}

type poolRevCache struct {
	mu sync.Mutex
	m  map[string]poolRev
}

func poolKey(f *registry.Function) string { return f.Namespace + "/" + f.Name }

// secretsStamp changes whenever one of f's secrets changes.
func (g *Gateway) secretsStamp(f *registry.Function) string {
	if len(f.Secrets) == 0 {
		return ""
	}
	var b strings.Builder
	for _, s := range f.Secrets {
		if sec, ok := g.cfg.Registry.Secret(f.Namespace, s); ok {
			b.WriteString(s)
			b.WriteByte('@')
			b.WriteString(strconv.FormatInt(sec.UpdatedAt.UnixNano(), 10))
			b.WriteByte(',')
		}
	}
	return b.String()
}

// poolRevision identifies everything a warm instance was started with. A
// change of code, env, argv, limits or secrets replaces the pool; a change
// of replicas only resizes it.
func (g *Gateway) poolRevision(f *registry.Function) string {
	key, stamp := poolKey(f), g.secretsStamp(f)
	g.poolRevs.mu.Lock()
	defer g.poolRevs.mu.Unlock()
	if c, ok := g.poolRevs.m[key]; ok && c.fnRev == f.Revision && c.secrets == stamp && f.Revision != 0 {
		return c.rev
	}
	b, _ := json.Marshal(struct {
		Digest, EnvProcess, Secrets string
		EnvVars                     map[string]string
		Limits                      *registry.Resources
		Max                         string
	}{f.Digest, f.EnvProcess, stamp, f.EnvVars, f.Limits, f.Labels[autoscale.LabelMax]})
	sum := sha256.Sum256(b)
	rev := hex.EncodeToString(sum[:8])
	g.poolRevs.m[key] = poolRev{fnRev: f.Revision, secrets: stamp, rev: rev}
	return rev
}

// pool returns f's warm pool, creating (or replacing, when the spec
// changed) it with f.Replicas instances.
func (g *Gateway) pool(f *registry.Function) *runtime.Pool {
	key, rev := poolKey(f), g.poolRevision(f)
	if p, ok := g.cfg.Runtime.LookupPool(key); ok && p.Revision() == rev {
		return p
	}
	return g.cfg.Runtime.Pool(key, g.poolSpec(f, rev))
}

func (g *Gateway) poolSpec(f *registry.Function, rev string) runtime.PoolSpec {
	args := strings.Fields(f.EnvProcess)
	if len(args) == 0 {
		args = []string{f.Name}
	}
	env := make([]string, 0, len(f.EnvVars)+1)
	for _, k := range slices.Sorted(mapsKeys(f.EnvVars)) {
		env = append(env, k+"="+f.EnvVars[k])
	}
	if f.EnvProcess != "" {
		env = append(env, "fprocess="+f.EnvProcess)
	}
	spec := runtime.PoolSpec{
		Digest:      f.Digest,
		Revision:    rev,
		Args:        args,
		Env:         env,
		MemoryLimit: g.memoryLimit(f),
		Timeout:     g.timeout(f),
		MaxStdout:   g.cfg.MaxStdout,
		Instances:   int(f.Replicas),
	}
	if len(f.Secrets) > 0 {
		spec.Secrets = g.secretsFS(f)
	}
	if g.cfg.Logs != nil {
		logs, inst, ns, name := g.cfg.Logs, g.cfg.NodeName, f.Namespace, f.Name
		spec.Stderr = func(line string) { logs.Append(ns, name, inst, line) }
	}
	if p := autoscale.PolicyFor(f.Labels); p.Max > 0 {
		spec.MaxInstances = int(p.Max)
	}
	if v, ok := f.EnvVars["max_inflight"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			spec.MaxInflight = n
		}
	}
	return spec
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// OnEvent keeps pools in step with the registry: a pooled function's pool
// is (re)started with its replicas as warm instances — so a deploy prewarms
// before the first request — and resized on scale; a removed function or one
// that is no longer pooled loses its pool.
func (g *Gateway) OnEvent(ev registry.Event) {
	f := ev.Function
	key := poolKey(&f)
	if ev.Kind == registry.Delete || effectiveABI(&f) != abi.Pooled {
		if _, ok := g.cfg.Runtime.LookupPool(key); ok {
			g.cfg.Runtime.ClosePool(key)
		}
		g.poolRevs.mu.Lock()
		delete(g.poolRevs.m, key)
		g.poolRevs.mu.Unlock()
		g.secretFSs.mu.Lock()
		delete(g.secretFSs.m, key)
		g.secretFSs.mu.Unlock()
		return
	}
	g.pool(&f).Resize(int(f.Replicas))
}

// availablePooled is the number of ready warm instances of a pooled function.
func (g *Gateway) availablePooled(f *registry.Function) uint64 {
	if p, ok := g.cfg.Runtime.LookupPool(poolKey(f)); ok {
		return uint64(p.Stats().Ready)
	}
	return 0
}

// callStream adds the gateway's headers to a streamed pooled response.
type callStream struct {
	next    Stream
	header  http.Header
	started bool
}

func (s *callStream) Head(status int, h http.Header) error {
	merged := make(http.Header, len(h)+len(s.header))
	for k, v := range h {
		merged[k] = v
	}
	for k, v := range s.header {
		merged[k] = v
	}
	s.started = true
	return s.next.Head(status, merged)
}

func (s *callStream) Chunk(p []byte) error { return s.next.Chunk(p) }

// callPooled serves one request from f's warm pool.
func (g *Gateway) callPooled(ctx context.Context, f *registry.Function, req *CallRequest, out http.Header) CallResult {
	path := req.RawPath
	if path == "" {
		path = req.Path
	}
	if path == "" {
		path = "/"
	}
	preq := &runtime.PooledRequest{
		Method:     req.Method,
		Host:       req.Host,
		Path:       path,
		RawQuery:   req.RawQuery,
		RemoteAddr: req.RemoteAddr,
		Header:     req.Header,
		Body:       req.Body,
	}
	var cs *callStream
	if req.Stream != nil {
		cs = &callStream{next: req.Stream, header: out}
		preq.Stream = cs
	}
	spec := &runtime.Spec{Timeout: g.timeout(f), MaxStdout: g.cfg.MaxStdout, MemoryLimit: g.memoryLimit(f)}
	resp, err := g.pool(f).Do(ctx, preq)
	if err != nil {
		status, msg, reason := g.invokeError(err, spec)
		if g.cfg.Logs != nil && reason != "client_gone" {
			g.cfg.Logs.Append(f.Namespace, f.Name, g.cfg.NodeName, fmt.Sprintf("call %s: %s", req.CallID, msg))
		}
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			out.Set("Retry-After", "1")
		}
		out.Set("Content-Type", "text/plain; charset=utf-8")
		out.Set("X-Content-Type-Options", "nosniff")
		return CallResult{Status: status, Header: out, Body: []byte(msg + "\n"), Gateway: true, Reason: reason,
			Streamed: cs != nil && cs.started}
	}
	for k, v := range resp.Header {
		out[k] = v
	}
	return CallResult{Status: resp.Status, Header: out, Body: resp.Body, Streamed: cs != nil && cs.started}
}

// pooledError maps the pool's own failures; invokeError calls it first.
func pooledError(err error) (status int, msg, reason string, ok bool) {
	var full *runtime.QueueFullError
	switch {
	case errors.As(err, &full) && full.MaxInflight:
		return http.StatusTooManyRequests, fmt.Sprintf("function is at max_inflight (%d waiting); retry later", full.Limit), "max_inflight", true
	case errors.As(err, &full):
		return http.StatusServiceUnavailable, "every warm instance is busy and the queue is full; retry later", "queue_full", true
	case errors.Is(err, runtime.ErrProtocol):
		return http.StatusBadGateway, "function broke the pooled protocol: " + firstLine(err.Error()), "protocol", true
	case errors.Is(err, runtime.ErrInstanceExited):
		return http.StatusInternalServerError, "function instance exited: " + firstLine(err.Error()), "exited", true
	case errors.Is(err, runtime.ErrAborted):
		return http.StatusInternalServerError, "function aborted its response: " + firstLine(err.Error()), "aborted", true
	case errors.Is(err, runtime.ErrClosed):
		return http.StatusServiceUnavailable, "node is shutting down; retry later", "closed", true
	}
	return 0, "", "", false
}
