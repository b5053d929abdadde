package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/lease"
	"github.com/sigilhq/sigil/internal/natsutil"
	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/internal/trust"
)

// ClusterName is the NATS cluster name every embedded Sigil server uses.
const ClusterName = "sigil"

// Default client and route ports of a clustered node (NATS's own defaults).
const (
	DefaultClientPort  = 4222
	DefaultClusterPort = 6222
)

// How long a clustered node waits for the JetStream meta leader and enough
// peers for its replicas before giving up on start.
const clusterFormTimeout = 2 * time.Minute

// clustered reports whether the node shares state with other nodes (embedded
// routes or an external NATS).
func (c *Config) clustered() bool {
	return len(c.Peers) > 0 || c.ClusterListen != "" || c.NATSURL != ""
}

func (c *Config) validateCluster() error {
	if c.NATSURL != "" && (c.ClusterListen != "" || len(c.Peers) > 0 || c.ClientListen != "") {
		return errors.New("--nats-url uses an external NATS: it excludes --cluster-listen, --peers and --client-listen")
	}
	if len(c.Peers) > 0 && c.ClusterListen == "" {
		return errors.New("--peers needs --cluster-listen (this node's route address)")
	}
	if c.ClusterListen != "" {
		if _, _, err := net.SplitHostPort(c.ClusterListen); err != nil {
			return fmt.Errorf("--cluster-listen %q: %w", c.ClusterListen, err)
		}
	}
	for _, p := range c.Peers {
		if _, _, err := net.SplitHostPort(strings.TrimPrefix(p, "nats://")); err != nil {
			return fmt.Errorf("--peers %q: want HOST:PORT: %w", p, err)
		}
	}
	if c.ClientListen != "" {
		if _, _, err := net.SplitHostPort(c.ClientListen); err != nil {
			return fmt.Errorf("--client-listen %q: %w", c.ClientListen, err)
		}
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return fmt.Errorf("--replicas %d: want 1 to 5", c.Replicas)
	}
	if c.Replicas == 0 && c.ClusterListen != "" {
		c.Replicas = min(3, 1+len(c.Peers))
	}
	return nil
}

// natsClientOptions are the client settings reference/scale.md found
// necessary in a cluster: a 1 s ping (a connection to a partitioned server
// is noticed in ~2-3 s instead of 4 min) and reconnecting forever.
func natsClientOptions(name string) []nats.Option {
	return []nats.Option{
		nats.Name("sigil-" + name),
		nats.PingInterval(time.Second),
		nats.MaxPingsOutstanding(2),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
}

// startBus connects the node to its NATS: an embedded single server (the
// default), an embedded server routed to its peers, or an external cluster.
func (n *Node) startBus(ctx context.Context) error {
	switch {
	case n.cfg.NATSURL != "":
		nc, err := nats.Connect(n.cfg.NATSURL, natsClientOptions(n.cfg.NodeName)...)
		if err != nil {
			return fmt.Errorf("nats: connect %s: %w", redactURL(n.cfg.NATSURL), err)
		}
		n.nc = nc
		if n.cfg.Replicas == 0 {
			n.cfg.Replicas = 1
			if nc.ConnectedClusterName() != "" {
				n.cfg.Replicas = 3
			}
		}
		n.log.Info("connected to an external NATS", "url", redactURL(nc.ConnectedUrl()),
			"cluster", nc.ConnectedClusterName(), "replicas", n.cfg.Replicas)
	case n.cfg.ClusterListen != "":
		if err := n.startClusteredNATS(); err != nil {
			return err
		}
	default:
		if n.cfg.Replicas == 0 {
			n.cfg.Replicas = 1
		}
		return n.startNATS()
	}
	return n.waitJetStream(ctx)
}

func (n *Node) startClusteredNATS() error {
	chost, cport, err := hostPort(n.cfg.ClusterListen, DefaultClusterPort)
	if err != nil {
		return fmt.Errorf("--cluster-listen: %w", err)
	}
	clientListen := n.cfg.ClientListen
	if clientListen == "" {
		clientListen = net.JoinHostPort(chost, strconv.Itoa(DefaultClientPort))
	}
	host, port, err := hostPort(clientListen, DefaultClientPort)
	if err != nil {
		return fmt.Errorf("--client-listen: %w", err)
	}
	var routes []*url.URL
	for _, p := range n.cfg.Peers {
		u, err := url.Parse("nats://" + strings.TrimPrefix(p, "nats://"))
		if err != nil {
			return fmt.Errorf("--peers %q: %w", p, err)
		}
		routes = append(routes, u)
	}
	opts := &natsserver.Options{
		ServerName: n.cfg.NodeName, // a Raft identity: unique and stable
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(n.cfg.DataDir, "nats"),
		NoSigs:     true,
		Cluster: natsserver.ClusterOpts{
			Name: ClusterName,
			Host: chost,
			Port: cport,
		},
		Routes: routes,
		// SIGTERM hands Raft leadership over and leaves; the lame-duck
		// phase only spreads out the closing of external clients.
		LameDuckDuration:    3 * time.Second,
		LameDuckGracePeriod: time.Second,
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	ns.SetLoggerV2(&natsLogger{log: n.log.With("component", "nats")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("nats: embedded server did not become ready within 10s")
	}
	n.ns = ns
	nc, err := nats.Connect("", append(natsClientOptions(n.cfg.NodeName), nats.InProcessServer(ns))...)
	if err != nil {
		return fmt.Errorf("nats: connect: %w", err)
	}
	n.nc = nc
	n.log.Info("nats cluster member started", "cluster", ClusterName, "routes", n.cfg.ClusterListen,
		"clients", clientListen, "peers", strings.Join(n.cfg.Peers, ","), "replicas", n.cfg.Replicas)
	return nil
}

// waitJetStream waits (with a deadline) until JetStream answers: in a
// cluster that means a meta leader was elected, which needs a quorum of the
// peers. Creating replicated assets before that fails.
func (n *Node) waitJetStream(ctx context.Context) error {
	began := time.Now()
	js, err := jetstream.New(n.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	err = retryUntil(ctx, clusterFormTimeout, func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("nats: no JetStream meta leader within %s (are a majority of the peers up?): %w", clusterFormTimeout, err)
	}
	n.log.Info("jetstream ready", "waited", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// openRetry runs open until it succeeds or clusterFormTimeout passes. In a
// cluster an R3 asset cannot be placed before three JetStream peers are
// known, and stream leaders may be moving while nodes start.
func (n *Node) openRetry(ctx context.Context, what string, open func(ctx context.Context) error) error {
	if !n.cfg.clustered() {
		return open(ctx)
	}
	tries := 0
	err := retryUntil(ctx, clusterFormTimeout, func(ctx context.Context) error {
		tries++
		err := open(ctx)
		if err != nil && tries%10 == 1 {
			n.log.Info("waiting for the cluster", "opening", what, "err", err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// attemptTimeout bounds one try at a JetStream admin call while a cluster
// forms. Short on purpose: when several nodes create the same stream at
// once, nats-server answers only one of them and the others' requests hang
// until they time out (measured); the retry then finds the stream made.
const attemptTimeout = 1500 * time.Millisecond

// retryUntil calls f (each call bounded by attemptTimeout) until it returns
// nil, ctx ends, or within has passed; it returns f's last error.
func retryUntil(ctx context.Context, within time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(within)
	wait := 50 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := f(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// shutdownNATS stops the embedded server. A cluster member goes through
// lame-duck mode: it hands every Raft leadership it holds to a peer first
// (~0.1 s of unavailability for those streams instead of a 4-9 s election).
func (n *Node) shutdownNATS() {
	if n.ns == nil {
		return
	}
	if n.cfg.ClusterListen != "" {
		n.ns.LameDuckShutdown() // also completes the shutdown
	} else {
		n.ns.Shutdown()
	}
	n.ns.WaitForShutdown()
}

func hostPort(addr string, defPort int) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if p == "" {
		return h, defPort, nil
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return h, port, nil
}

func redactURL(s string) string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if u, err := url.Parse(part); err == nil && u.User != nil {
			u.User = url.User("redacted")
			part = u.String()
		}
		out = append(out, part)
	}
	return strings.Join(out, ",")
}

// natsLogger sends the embedded server's warnings and errors to slog; its
// notices (route and Raft chatter) go to debug.
type natsLogger struct{ log *slog.Logger }

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "trying to connect to route") {
		l.log.Debug(msg) // peers not up yet: routine while a cluster starts
		return
	}
	l.log.Error(msg)
}
func (l *natsLogger) Debugf(format string, v ...any) {}
func (l *natsLogger) Tracef(format string, v ...any) {}

// Buckets only a cluster uses.
const (
	LeaseBucket   = "sigil_leases"  // single-writer leases (the transparency log's)
	ClusterBucket = "sigil_cluster" // cluster-wide settings: the shared log key
	logKeyKey     = "tlog-key"
)

// openCluster creates the cluster's own buckets. The lease bucket is opened
// first and retried: it is the first replicated asset, so this is where a
// starting node waits for enough peers to place its replicas.
func (n *Node) openCluster(ctx context.Context, js jetstream.JetStream) error {
	if !n.cfg.clustered() {
		return nil
	}
	n.waitBootstrap(ctx, js)
	if err := n.openRetry(ctx, "leases", func(ctx context.Context) (err error) {
		n.leases, err = lease.Bucket(ctx, js, LeaseBucket, n.cfg.Replicas, lease.DefaultTTL)
		return err
	}); err != nil {
		return err
	}
	return n.openRetry(ctx, "cluster settings", func(ctx context.Context) (err error) {
		n.clusterKV, err = natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
			Bucket: ClusterBucket, Description: "sigil cluster-wide settings", History: 1, Replicas: n.cfg.Replicas,
		})
		return err
	})
}

// openTlog opens the transparency log: a local one on a single node; in a
// cluster, one log for all nodes, written by the lease holder and signed by
// a key the first node to start publishes to the others.
func (n *Node) openTlog(ctx context.Context, js jetstream.JetStream, own ed25519.PrivateKey) (*tlog.Log, error) {
	if !n.cfg.clustered() {
		return tlog.Open(ctx, tlog.Options{Dir: filepath.Join(n.cfg.DataDir, "tlog"), Key: own, Logger: n.log})
	}
	key, err := n.sharedLogKey(ctx, js, own)
	if err != nil {
		return nil, err
	}
	return tlog.OpenCluster(ctx, tlog.ClusterOptions{
		Options:  tlog.Options{Dir: filepath.Join(n.cfg.DataDir, "tlog-cluster"), Key: key, Logger: n.log},
		NC:       n.nc,
		JS:       js,
		Leases:   n.leases,
		LeaseTTL: lease.DefaultTTL,
		Node:     n.cfg.NodeName,
		Replicas: n.cfg.Replicas,
	})
}

// sharedLogKey returns the cluster's log key: the first node offers its own
// (Create succeeds once), every other node adopts it.
func (n *Node) sharedLogKey(ctx context.Context, js jetstream.JetStream, own ed25519.PrivateKey) (ed25519.PrivateKey, error) {
	pemb, err := trust.EncodePrivateKey(own, nil)
	if err != nil {
		return nil, err
	}
	var key ed25519.PrivateKey
	err = n.openRetry(ctx, "cluster log key", func(ctx context.Context) error {
		if _, err := n.clusterKV.Create(ctx, logKeyKey, pemb); err == nil {
			key = own
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		e, err := n.clusterKV.Get(ctx, logKeyKey)
		if err != nil {
			// Reopen for the next attempt: the handle may predate a change
			// of the bucket's direct-get setting.
			if kv, kerr := js.KeyValue(ctx, ClusterBucket); kerr == nil {
				n.clusterKV = kv
			}
			return err
		}
		key, err = trust.ParseEd25519PrivateKey(e.Value())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	if !key.Equal(own) {
		n.log.Info("using the cluster's transparency log key (published by the first node)")
	}
	return key, nil
}

// pullExpiry of the async workers: short in a cluster, so a worker whose
// pull was lost with a consumer leader re-pulls within ~4 s.
func (n *Node) pullExpiry() time.Duration {
	if n.cfg.clustered() {
		return 4 * time.Second
	}
	return 0
}

// bootstrappedKey marks (in ClusterBucket) that every asset exists.
const bootstrappedKey = "bootstrapped"

// waitBootstrap serialises the first creation of the cluster's assets.
// When several nodes create the same stream at once, nats-server answers
// one request and leaves the others unanswered until they time out
// (measured: a fresh 3-node start took 11-24 s that way instead of ~2 s).
// So on a fresh embedded cluster the JetStream meta leader creates the
// assets and marks them done; the other nodes wait for that mark (bounded,
// then they go ahead anyway) and then merely re-open what exists.
func (n *Node) waitBootstrap(ctx context.Context, js jetstream.JetStream) {
	if n.ns == nil || n.ns.JetStreamIsLeader() {
		return
	}
	began := time.Now()
	err := retryUntil(ctx, 30*time.Second, func(ctx context.Context) error {
		kv, err := js.KeyValue(ctx, ClusterBucket)
		if err != nil {
			return err
		}
		_, err = kv.Get(ctx, bootstrappedKey)
		return err
	})
	if err != nil {
		n.log.Warn("the cluster's assets were not marked created in time; creating them here too", "err", err)
		return
	}
	n.log.Info("cluster assets exist", "waited", time.Since(began).Round(time.Millisecond).String())
}

// markBootstrapped records that this node created or opened every asset.
func (n *Node) markBootstrapped(ctx context.Context) {
	if n.clusterKV == nil {
		return
	}
	if _, err := n.clusterKV.Put(ctx, bootstrappedKey, []byte(n.cfg.NodeName)); err != nil {
		n.log.Warn("cluster: could not mark the assets created", "err", err)
	}
}
