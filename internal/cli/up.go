package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigilhq/sigil/internal/server"
	"github.com/sigilhq/sigil/pkg/client"
)

// envOr returns $key when set, else def: every `up` flag has a SIGIL_* twin.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envBool(key string) bool {
	b, _ := strconv.ParseBool(os.Getenv(key))
	return b
}

// NewUpCommand returns `sigil up`, which runs a node in the foreground until
// SIGINT or SIGTERM.
func NewUpCommand() *cobra.Command {
	var (
		cfg       server.Config
		logLevel  string
		logFormat string
		timeout   string
		maxBody   int64
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a Sigil node (gateway, Wasm runtime, embedded NATS JetStream)",
		Long: "Run a Sigil node in the foreground: the OpenFaaS-compatible gateway, the wazero runtime\n" +
			"and an embedded NATS JetStream holding functions, artifacts and logs under --data-dir.\n" +
			"Every flag has an environment twin (SIGIL_LISTEN, SIGIL_DATA_DIR, ...).",
		Example: "  sigil up --demo\n  sigil up --listen 127.0.0.1:9090 --data-dir /var/lib/sigil --no-auth",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel, logFormat)
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			cfg.Logger = logger
			if _, set := os.LookupEnv("GOGC"); !set {
				// Each fresh instance allocates and drops its linear memory;
				// a less eager GC measurably raises throughput (docs/RATIONALE.md).
				debug.SetGCPercent(400)
			}
			cfg.MaxBodyBytes = maxBody
			if timeout != "" {
				d, err := time.ParseDuration(timeout)
				if err != nil {
					return usagef(cmd, "--timeout %q: %v", timeout, err)
				}
				cfg.DefaultTimeout = d
			}
			cfg.Version = client.VersionInfo{Release: Version, SHA: Commit}
			ctx := cmd.Context()
			node, err := server.Start(ctx, cfg)
			if err != nil {
				return err
			}
			select {
			case <-ctx.Done():
			case err = <-node.Err():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if serr := node.Shutdown(sctx); serr != nil && err == nil {
				err = serr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", envOr("SIGIL_LISTEN", server.DefaultListen), "gateway address ($SIGIL_LISTEN)")
	f.StringVar(&cfg.DataDir, "data-dir", envOr("SIGIL_DATA_DIR", server.DefaultDataDir), "where the node keeps its state ($SIGIL_DATA_DIR)")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", envOr("SIGIL_METRICS_LISTEN", ""), "also serve /metrics on this address, e.g. 127.0.0.1:8082 as OpenFaaS does ($SIGIL_METRICS_LISTEN)")
	f.BoolVar(&cfg.NoAuth, "no-auth", envBool("SIGIL_NO_AUTH"), "serve /system/* without basic auth ($SIGIL_NO_AUTH)")
	f.BoolVar(&cfg.Demo, "demo", envBool("SIGIL_DEMO"), "build, push and deploy the examples after start ($SIGIL_DEMO)")
	f.BoolVar(&cfg.NoAutoscale, "no-autoscale", envBool("SIGIL_NO_AUTOSCALE"), "do not change replicas with load or idleness ($SIGIL_NO_AUTOSCALE)")
	f.StringVar(&cfg.RepoRoot, "examples-root", envOr("SIGIL_EXAMPLES_ROOT", "."), "repository root holding examples/, for --demo ($SIGIL_EXAMPLES_ROOT)")
	f.StringVar(&cfg.NodeName, "node-name", envOr("SIGIL_NODE_NAME", ""), "this node's name (default: host name) ($SIGIL_NODE_NAME)")
	f.StringVar(&cfg.ClusterListen, "cluster-listen", envOr("SIGIL_CLUSTER_LISTEN", ""), "join a cluster: this node's NATS route address, e.g. 10.0.0.1:6222 ($SIGIL_CLUSTER_LISTEN)")
	f.StringSliceVar(&cfg.Peers, "peers", envList("SIGIL_PEERS"), "the other nodes' route addresses HOST:PORT,HOST:PORT ($SIGIL_PEERS)")
	f.StringVar(&cfg.ClientListen, "client-listen", envOr("SIGIL_CLIENT_LISTEN", ""), "NATS client address of a cluster member (default: --cluster-listen's host, port 4222) ($SIGIL_CLIENT_LISTEN)")
	f.StringVar(&cfg.NATSURL, "nats-url", envOr("SIGIL_NATS_URL", ""), "use this external NATS (JetStream) cluster instead of an embedded server ($SIGIL_NATS_URL)")
	f.IntVar(&cfg.Replicas, "replicas", envInt("SIGIL_REPLICAS"), "JetStream replicas of every stream and bucket (default 3 in a cluster, 1 alone) ($SIGIL_REPLICAS)")
	f.StringVar(&timeout, "timeout", envOr("SIGIL_TIMEOUT", ""), "default exec_timeout of functions that set none (default 30s) ($SIGIL_TIMEOUT)")
	f.Int64Var(&maxBody, "max-body", 0, "largest invoke request body in bytes (default 64 MiB)")
	f.IntVar(&cfg.MaxInstances, "max-instances", 0, "most Wasm instances running at once on this node (default: runtime's)")
	f.IntVar(&cfg.AsyncWorkers, "async-workers", 0, "async calls run at once on this node (default 16 × CPUs)")
	f.DurationVar(&cfg.AsyncAckWait, "async-ack-wait", 0, "after a crash, running async calls are redelivered once this has passed (default 10s)")
	f.Int64Var(&cfg.AsyncMaxBodyBytes, "async-max-body", 0, "largest async request body in bytes (default 10 MiB; above 512 KiB bodies go to the object store)")
	f.StringVar(&logLevel, "log-level", envOr("SIGIL_LOG_LEVEL", "info"), "debug, info, warn or error ($SIGIL_LOG_LEVEL)")
	f.StringVar(&logFormat, "log-format", envOr("SIGIL_LOG_FORMAT", "text"), "text or json ($SIGIL_LOG_FORMAT)")
	return cmd
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
