package server

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/trigger"
)

// openAsync opens the durable queue (before the gateway, which enqueues) on
// NATS connections of its own, one for the workers' pulls and acks and one
// for enqueue publishes: on the node's shared connection they would queue
// behind each other and behind the registry, logs and artifacts (see
// docs/RATIONALE.md, "The async queue has its own NATS connections").
func (n *Node) openAsync(ctx context.Context, _ jetstream.JetStream) error {
	if n.qnc == nil {
		nc, err := n.dialExtra("async")
		if err != nil {
			return err
		}
		n.qnc = nc
	}
	if n.pnc == nil {
		nc, err := n.dialExtra("enqueue")
		if err != nil {
			return err
		}
		n.pnc = nc
	}
	wjs, err := jetstream.New(n.qnc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	pjs, err := jetstream.New(n.pnc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	q, err := queue.Open(ctx, wjs, queue.Options{
		PublishJS:    pjs,
		Replicas:     n.cfg.Replicas,
		PullExpiry:   n.pullExpiry(),
		Workers:      n.cfg.AsyncWorkers,
		AckWait:      n.cfg.AsyncAckWait,
		MaxBodyBytes: n.cfg.AsyncMaxBodyBytes,
		Lookup:       n.reg.Function,
		Logger:       n.log,
		Registerer:   n.metrics.Registry(),
	})
	if err != nil {
		return err
	}
	n.queue = q
	return nil
}

// startAsync starts the workers (through the gateway's invocation path) and
// the cron and NATS triggers.
func (n *Node) startAsync() error {
	if err := n.queue.Start(n.gw.AsyncInvoker()); err != nil {
		return err
	}
	tm, err := trigger.New(trigger.Config{Queue: n.queue, NC: n.nc, Logger: n.log, Registerer: n.metrics.Registry()})
	if err != nil {
		return fmt.Errorf("triggers: %w", err)
	}
	tm.Start()
	n.triggers = tm
	n.reg.Subscribe(tm.OnEvent)
	return nil
}

// stopAsync stops the triggers, then the workers: running calls finish
// within ctx, or are left unacknowledged for redelivery after a restart.
func (n *Node) stopAsync(ctx context.Context) error {
	if n.triggers != nil {
		n.triggers.Stop(ctx)
	}
	if n.queue != nil {
		return n.queue.Stop(ctx)
	}
	return nil
}

// dialExtra opens one more connection to the node's NATS (the embedded
// server in process, or the external cluster).
func (n *Node) dialExtra(role string) (*nats.Conn, error) {
	opts := natsClientOptions(n.cfg.NodeName + "-" + role)
	if n.cfg.NATSURL != "" {
		nc, err := nats.Connect(n.cfg.NATSURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("nats: connect %s: %w", redactURL(n.cfg.NATSURL), err)
		}
		return nc, nil
	}
	nc, err := nats.Connect("", append(opts, nats.InProcessServer(n.ns))...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect (%s): %w", role, err)
	}
	return nc, nil
}
