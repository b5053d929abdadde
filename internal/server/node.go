package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/api"
	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/fnlog"
	"github.com/sigilhq/sigil/internal/metrics"
	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/runtime"
	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/internal/trigger"
	"github.com/sigilhq/sigil/internal/trust"
)

// Node is one running Sigil node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	ns      *natsserver.Server
	nc      *nats.Conn
	qnc     *nats.Conn // the async workers' own connection
	pnc     *nats.Conn // the async enqueue publishes' own connection
	rt      *runtime.Runtime
	reg     *registry.Registry
	arts    *artifact.Store
	logs    *fnlog.Store
	metrics *metrics.Metrics
	gw      *api.Gateway
	creds   *api.Credentials
	warm    *warmer

	queue    *queue.Queue
	triggers *trigger.Manager

	keys         trust.NodeKeys
	trust        *trust.Store
	trustMetrics *trust.Metrics
	tlog         *tlog.Log

	leases, clusterKV jetstream.KeyValue // cluster only (cluster.go)

	httpSrv, metricsSrv *http.Server
	ln                  net.Listener
	serveErr            chan error
	stopDemo            context.CancelFunc
	demoDone            chan struct{}
	stopScaler          context.CancelFunc
	scalerDone          chan struct{}
}

// Start brings a node up and returns once it is serving. The caller stops it
// with Shutdown.
func Start(ctx context.Context, cfg Config) (n *Node, err error) {
	began := time.Now()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cfg.DataDir = dataDir
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if cfg.NodeName == "" {
		cfg.NodeName, _ = os.Hostname()
		if cfg.NodeName == "" {
			cfg.NodeName = "sigil"
		}
	}
	n = &Node{cfg: cfg, log: cfg.Logger, serveErr: make(chan error, 2)}
	started := n // `return nil, err` clears n before this deferred cleanup runs
	defer func() {
		if err != nil {
			_ = started.close(context.Background())
		}
	}()

	if !cfg.NoAuth {
		creds, created, err := loadOrCreateCredentials(dataDir)
		if err != nil {
			return nil, err
		}
		n.creds = creds
		if created {
			n.log.Warn("generated gateway credentials (shown once; stored under the data dir)",
				"user", creds.User, "password", creds.Password,
				"file", filepath.Join(dataDir, "secrets", "basic-auth-password"))
		}
	}

	if err := n.startBus(ctx); err != nil {
		return nil, err
	}
	js, err := jetstream.New(n.nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := n.openCluster(ctx, js); err != nil {
		return nil, err
	}
	if err := n.openRetry(ctx, "artifacts", func(ctx context.Context) (err error) {
		n.arts, err = artifact.Open(ctx, js, artifact.Options{Replicas: n.cfg.Replicas})
		return err
	}); err != nil {
		return nil, err
	}
	if err := n.openRetry(ctx, "logs", func(ctx context.Context) (err error) {
		n.logs, err = fnlog.Open(ctx, js, fnlog.Options{Logger: n.log, Replicas: n.cfg.Replicas})
		return err
	}); err != nil {
		return nil, err
	}
	if err := n.openTrust(ctx, js); err != nil {
		return nil, err
	}
	n.rt, err = runtime.New(ctx, runtime.Config{
		CacheDir:     filepath.Join(dataDir, "cache", "wazero"),
		Logger:       n.log,
		Load:         n.loadArtifact,
		MaxInstances: cfg.MaxInstances,
	})
	if err != nil {
		return nil, err
	}
	n.metrics = metrics.New(func() metrics.RuntimeStats {
		s := n.rt.Stats()
		return metrics.RuntimeStats{Compiled: s.Compiled, Active: s.Active, ColdStarts: s.ColdStarts, Invocations: s.Invocations,
			Interpreted: s.Interpreted, InterpretedInvocations: s.InterpretedInvocations}
	})
	if err := n.openRetry(ctx, "registry", func(ctx context.Context) (err error) {
		n.reg, err = registry.Open(ctx, js, registry.Options{Logger: n.log, Replicas: n.cfg.Replicas})
		return err
	}); err != nil {
		return nil, err
	}
	n.warm = newWarmer(n.log, n.rt, n.arts, n.metrics)
	n.reg.Subscribe(n.warm.onEvent)
	if err := n.openRetry(ctx, "async queue", func(ctx context.Context) error { return n.openAsync(ctx, js) }); err != nil {
		return nil, err
	}

	n.trustMetrics = trust.NewMetrics(n.metrics.Registry())
	if err := n.trustDefaults(ctx); err != nil {
		return nil, err
	}
	n.gw = api.New(api.Config{
		Registry:       n.reg,
		Artifacts:      n.arts,
		Runtime:        n.rt,
		Metrics:        n.metrics,
		Logs:           n.logs,
		Async:          n.queue,
		Auth:           n.creds,
		Logger:         n.log,
		NodeName:       cfg.NodeName,
		Version:        cfg.Version,
		Trust:          n.trust,
		TrustMetrics:   n.trustMetrics,
		Tlog:           n.tlog,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		DefaultTimeout: cfg.DefaultTimeout,
	})
	if err := n.startAsync(); err != nil {
		return nil, err
	}
	n.reg.Subscribe(n.gw.OnEvent) // pooled functions: warm pools follow the registry
	n.startBackground()
	n.markBootstrapped(ctx)
	if err := n.serve(); err != nil {
		return nil, err
	}
	n.recordLocalKey()
	n.log.Info("sigil is ready", "url", n.URL(), "data_dir", dataDir, "node", cfg.NodeName,
		"auth", n.creds != nil, "startup", time.Since(began).Round(time.Microsecond).String())
	if cfg.Demo {
		dctx, cancel := context.WithCancel(context.Background())
		n.stopDemo, n.demoDone = cancel, make(chan struct{})
		go func() {
			defer close(n.demoDone)
			n.runDemo(dctx)
		}()
	}
	return n, nil
}

func (n *Node) startNATS() error {
	opts := &natsserver.Options{
		ServerName: n.cfg.NodeName,
		JetStream:  true,
		StoreDir:   filepath.Join(n.cfg.DataDir, "nats"),
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("nats: embedded server did not become ready within 10s")
	}
	n.ns = ns
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("sigil-"+n.cfg.NodeName))
	if err != nil {
		return fmt.Errorf("nats: connect: %w", err)
	}
	n.nc = nc
	return nil
}

func (n *Node) serve() error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", n.cfg.Listen, err)
	}
	n.ln = ln
	n.httpSrv = &http.Server{
		Handler:           n.gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := n.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.serveErr <- fmt.Errorf("gateway: %w", err)
		}
	}()
	if n.cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", n.cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", n.cfg.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", n.metrics.Handler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("OK")) })
		// Profiles for operators, on this opt-in listener only (never on
		// the gateway): go tool pprof http://ADDR/debug/pprof/profile
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		n.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := n.metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.serveErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	return nil
}

// URL is the gateway's base URL.
func (n *Node) URL() string { return "http://" + n.ln.Addr().String() }

// Credentials returns the basic-auth credentials, or nil when auth is off.
func (n *Node) Credentials() *api.Credentials { return n.creds }

// Err reports a fatal serving error.
func (n *Node) Err() <-chan error { return n.serveErr }

// Shutdown stops accepting requests, lets in-flight ones finish (bounded by
// ctx), then closes the runtime and the bus in order.
func (n *Node) Shutdown(ctx context.Context) error {
	began := time.Now()
	err := n.close(ctx)
	n.log.Info("sigil stopped", "took", time.Since(began).Round(time.Millisecond).String())
	return err
}

func (n *Node) close(ctx context.Context) error {
	var errs []error
	if n.stopDemo != nil {
		n.stopDemo()
		<-n.demoDone
	}
	if n.stopScaler != nil {
		n.stopScaler()
		<-n.scalerDone
	}
	if n.httpSrv != nil {
		if err := n.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway shutdown: %w", err))
		}
	}
	if n.metricsSrv != nil {
		_ = n.metricsSrv.Shutdown(ctx)
	}
	if err := n.stopAsync(ctx); err != nil {
		errs = append(errs, err)
	}
	if n.warm != nil {
		n.warm.stop()
	}
	if n.logs != nil {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_ = n.logs.Flush(fctx)
		cancel()
	}
	errs = append(errs, n.closeTrust(ctx)...)
	if n.reg != nil {
		if err := n.reg.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.rt != nil {
		if err := n.rt.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range []*nats.Conn{n.pnc, n.qnc} {
		if c != nil {
			c.Close()
		}
	}
	if n.nc != nil {
		n.nc.Close()
	}
	if n.ns != nil {
		n.shutdownNATS()
	}
	return errors.Join(errs...)
}
