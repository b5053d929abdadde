package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/klog/v2"

	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/trust"
)

// openTrust loads (or on first start creates) the node's log and developer
// keys, opens the transparency log under DATA/tlog and the policy store.
// Trust is on whatever the auth setting: --no-auth does not disable it.
func (n *Node) openTrust(ctx context.Context, js jetstream.JetStream) error {
	klog.SetSlogLogger(n.log.With("component", "tessera")) // Tessera logs through klog
	keys, err := trust.EnsureNodeKeys(n.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	n.keys = keys
	if keys.Created {
		n.log.Info("generated a developer signing key; the default namespace trusts it and `sigil push` uses it",
			"key", keys.DevPath, "public", filepath.Join(n.cfg.DataDir, trust.KeysDir, trust.DevPubFile))
	}
	if err := n.openRetry(ctx, "transparency log", func(ctx context.Context) (err error) {
		n.tlog, err = n.openTlog(ctx, js, keys.Log)
		return err
	}); err != nil {
		return err
	}
	if err := n.openRetry(ctx, "trust policies", func(ctx context.Context) (err error) {
		n.trust, err = trust.Open(ctx, js, trust.Options{Logger: n.log, Replicas: n.cfg.Replicas})
		return err
	}); err != nil {
		return err
	}
	return nil
}

// trustDefaults makes a fresh node's default namespace trust its developer key.
func (n *Node) trustDefaults(ctx context.Context) error {
	if err := n.trust.EnsureDefault(ctx, trust.DefaultNamespace, "sigil-dev@"+n.cfg.NodeName, n.keys.DevPubPEM); err != nil {
		return fmt.Errorf("trust: default policy: %w", err)
	}
	return nil
}

// loadArtifact is the runtime's loader: the store re-hashes the bytes, and a
// module whose bytes no longer match its digest is refused, logged and
// counted instead of being compiled.
func (n *Node) loadArtifact(ctx context.Context, digest string) ([]byte, error) {
	b, err := n.arts.Get(ctx, digest)
	if errors.Is(err, artifact.ErrCorrupt) {
		n.trustMetrics.DigestMismatch()
		n.log.Error("trust: module bytes do not match their digest; refusing to run them", "digest", digest, "err", err)
	}
	return b, err
}

func (n *Node) closeTrust(ctx context.Context) []error {
	var errs []error
	if n.trust != nil {
		_ = n.trust.Close()
	}
	if n.tlog != nil {
		if err := n.tlog.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// recordLocalKey tells the local CLI which developer key signs for this
// gateway when it listens on a loopback address, so `sigil push` works with
// zero setup whatever the data dir and working directory.
func (n *Node) recordLocalKey() {
	addr, ok := n.ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() || n.keys.DevPath == "" {
		return
	}
	if err := trust.RecordLocalKey(addr.String(), n.keys.DevPath); err != nil {
		n.log.Debug("could not record the developer key for the local CLI", "err", err)
	}
}
