package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

// Config is everything `sigil up` can set. Zero values mean the defaults.
type Config struct {
	DataDir       string // default ./.sigil
	Listen        string // gateway address, default 127.0.0.1:8080
	MetricsListen string // optional second listener for /metrics and /healthz (OpenFaaS uses :8082); "" = off
	NoAuth        bool   // serve /system/* without basic auth
	NodeName      string // default: the host name
	Demo          bool   // build, push and deploy the examples after start
	NoAutoscale   bool   // leave replicas to the API (scale-function) alone
	RepoRoot      string // where examples/ lives, for Demo (default ".")

	MaxBodyBytes   int64
	DefaultTimeout time.Duration
	MaxInstances   int

	AsyncWorkers      int           // async calls run at once (default: queue's)
	AsyncAckWait      time.Duration // redelivery delay of a call whose worker died (default 10s)
	AsyncMaxBodyBytes int64         // largest async request body (default 10 MiB)

	// Clustering (docs/cluster.md). Peers set: the embedded server joins
	// them with routes from ClusterListen; NATSURL set: no embedded server.
	ClusterListen string   // route listener, e.g. 127.0.0.1:6222
	Peers         []string // other nodes' route addresses HOST:PORT
	ClientListen  string   // NATS client listener (default HOST:4222 of ClusterListen when clustered)
	NATSURL       string   // an external NATS cluster instead of the embedded server
	Replicas      int      // JetStream replicas of every asset (default 3 when clustered, else 1)

	Version client.VersionInfo
	Logger  *slog.Logger
}

// DefaultListen is the gateway's default address, OpenFaaS's port.
const DefaultListen = "127.0.0.1:8080"

// DefaultDataDir is where a node keeps its state unless told otherwise.
const DefaultDataDir = ".sigil"

func (c *Config) validate() error {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %q: %w", c.MetricsListen, err)
		}
	}
	if c.MaxBodyBytes < 0 {
		return errors.New("--max-body must not be negative")
	}
	if c.DefaultTimeout < 0 {
		return errors.New("--timeout must not be negative")
	}
	if c.RepoRoot == "" {
		c.RepoRoot = "."
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c.validateCluster()
}
