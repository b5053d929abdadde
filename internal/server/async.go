package server

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/trigger"
)

// openAsync opens the durable queue (before the gateway, which enqueues).
func (n *Node) openAsync(ctx context.Context, js jetstream.JetStream) error {
	q, err := queue.Open(ctx, js, queue.Options{
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
