package api

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/autoscale"
	"github.com/sigilhq/sigil/internal/fnlog"
	"github.com/sigilhq/sigil/internal/metrics"
	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// Config wires a Gateway to the node's parts.
type Config struct {
	Registry  *registry.Registry
	Artifacts *artifact.Store
	Runtime   *runtime.Runtime
	Metrics   *metrics.Metrics
	Logs      *fnlog.Store
	Async     *queue.Queue // nil: no /async-function/ routes
	Auth      *Credentials // nil: no auth
	Logger    *slog.Logger
	NodeName  string // reported as the log "instance"
	Version   client.VersionInfo

	// Trust enforces the per-namespace signing policy (nil: no checks);
	// Tlog logs signatures and deployment records (nil: no log).
	Trust        *trust.Store
	TrustMetrics *trust.Metrics
	Tlog         *tlog.Log

	MaxBodyBytes     int64         // invoke request bodies (default 64 MiB)
	MaxArtifactBytes int64         // pushed modules (default 64 MiB)
	DefaultTimeout   time.Duration // when a function sets no exec_timeout (default 30s)
	DefaultMemory    uint64        // when a function sets no limits.memory (default 128 MiB)
	MaxStdout        int64         // response size cap (default 16 MiB)
}

// Gateway serves the HTTP API of one node.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler

	countsMu sync.RWMutex
	counts   map[string]*fnStats // "name.namespace" → what this node saw of it

	scalingUp sync.Map // "ns/name" → struct{}: a scale-from-zero write in flight
	poolRevs  poolRevCache
	secretFSs secretFSCache
}

// New builds the gateway and its routes.
func New(cfg Config) *Gateway {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxArtifactBytes <= 0 {
		cfg.MaxArtifactBytes = 64 << 20
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = 30 * time.Second
	}
	if cfg.DefaultMemory == 0 {
		cfg.DefaultMemory = 128 << 20
	}
	if cfg.MaxStdout <= 0 {
		cfg.MaxStdout = 16 << 20
	}
	if cfg.NodeName == "" {
		cfg.NodeName = "sigil"
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger, counts: map[string]*fnStats{}}
	g.poolRevs.m = map[string]poolRev{}
	g.secretFSs.m = map[string]secretFSEntry{}
	g.handler = g.routes()
	return g
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.handler.ServeHTTP(w, r) }

func (g *Gateway) routes() http.Handler {
	mux := http.NewServeMux()
	sys := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, g.instrument(requireAuth(g.cfg.Auth, h)))
	}
	open := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, g.instrument(h)) }

	open("GET /healthz", g.healthz)
	open("HEAD /healthz", g.healthz)
	if g.cfg.Metrics != nil {
		mux.Handle("GET /metrics", g.cfg.Metrics.Handler())
	}

	// Invocation: the method check happens inside, so an unsupported
	// method gets OpenFaaS's 405 rather than the mux's.
	mux.HandleFunc("/function/{fn}", g.invoke)
	mux.HandleFunc("/function/{fn}/{rest...}", g.invoke)

	sys("GET /system/info", g.info)
	sys("GET /system/functions", g.listFunctions)
	sys("POST /system/functions", g.deployFunction)
	sys("PUT /system/functions", g.updateFunction)
	sys("DELETE /system/functions", g.deleteFunction)
	sys("GET /system/function/{name}", g.getFunction)
	sys("POST /system/scale-function/{name}", g.scaleFunction)

	sys("GET /system/secrets", g.listSecrets)
	sys("POST /system/secrets", g.createSecret)
	sys("PUT /system/secrets", g.updateSecret)
	sys("DELETE /system/secrets", g.deleteSecret)

	sys("GET /system/namespaces", g.listNamespaces)
	sys("POST /system/namespace/{$}", g.createNamespace)
	sys("POST /system/namespace/{ns}", g.createNamespace)
	sys("GET /system/namespace/{ns}", g.getNamespace)
	sys("PUT /system/namespace/{ns}", g.updateNamespace)
	sys("DELETE /system/namespace/{ns}", g.deleteNamespace)

	sys("GET /system/logs", g.logs)

	sys("POST /system/artifacts", g.pushArtifact)
	sys("GET /system/artifacts", g.listArtifacts)
	g.asyncRoutes(mux, sys, open)
	g.addTrustRoutes(mux, sys, open)

	return mux
}

// statusWriter records the status for metrics and keeps streaming working.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument records provider_http_* metrics for API routes, labelled by the
// route pattern (never the raw path, which would explode cardinality).
func (g *Gateway) instrument(h http.Handler) http.Handler {
	if g.cfg.Metrics == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		g.cfg.Metrics.API(sw.status, r.Method, r.Pattern, time.Since(start))
	})
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte("OK"))
	}
}

// fnStats is one function's load as this node sees it: the invocation
// count reported in invocationCount and the in-flight gauge the autoscaler
// reads.
type fnStats struct {
	ns, name string
	requests atomic.Uint64
	inflight atomic.Int64
}

// stats returns the counters of fn ("name.namespace").
func (g *Gateway) stats(ns, name, fn string) *fnStats {
	g.countsMu.RLock()
	c := g.counts[fn]
	g.countsMu.RUnlock()
	if c != nil {
		return c
	}
	g.countsMu.Lock()
	defer g.countsMu.Unlock()
	if c = g.counts[fn]; c == nil {
		c = &fnStats{ns: ns, name: name}
		g.counts[fn] = c
	}
	return c
}

func (g *Gateway) invocations(fn string) uint64 {
	g.countsMu.RLock()
	defer g.countsMu.RUnlock()
	if c := g.counts[fn]; c != nil {
		return c.requests.Load()
	}
	return 0
}

// Loads reports each function's load for the autoscaler, keyed
// "namespace/name".
func (g *Gateway) Loads() map[string]autoscale.Load {
	g.countsMu.RLock()
	defer g.countsMu.RUnlock()
	out := make(map[string]autoscale.Load, len(g.counts))
	for _, c := range g.counts {
		out[c.ns+"/"+c.name] = autoscale.Load{InFlight: c.inflight.Load(), Requests: c.requests.Load()}
	}
	return out
}

// effectiveABI is the function's ABI: the com.sigil.abi annotation, else the
// artifact's, else openfaas.
func effectiveABI(f *registry.Function) abi.Kind {
	if v, ok := f.Annotations[AnnotationABI]; ok && v != "" {
		return abi.Kind(v) // validated at deploy
	}
	if f.ABI != "" {
		return abi.Kind(f.ABI)
	}
	return abi.OpenFaaS
}

// Elastic reports whether f's replicas are real capacity (pooled warm
// instances) that the autoscaler may follow with load.
func Elastic(f registry.Function) bool { return effectiveABI(&f) == "pooled" }

// TotalRequests is every invocation this node has started, all functions.
func (g *Gateway) TotalRequests() uint64 {
	g.countsMu.RLock()
	defer g.countsMu.RUnlock()
	var n uint64
	for _, c := range g.counts {
		n += c.requests.Load()
	}
	return n
}
