package server

import (
	"context"
	"sync"

	"github.com/sigilhq/sigil/internal/api"
	"github.com/sigilhq/sigil/internal/autoscale"
)

// startBackground runs the node's housekeeping loops until Shutdown: the
// autoscaler (pooled functions follow their load; functions with
// com.openfaas.scale.zero=true go to zero when idle — unless --no-autoscale)
// and the idle memory trimmer. In a cluster every node decides from its own
// load; see docs/RATIONALE.md.
func (n *Node) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.stopScaler, n.scalerDone = cancel, done
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.trimmer(ctx, n.gw.TotalRequests)
	}()
	if !n.cfg.NoAutoscale {
		sc := autoscale.New(autoscale.Config{Logger: n.log, Elastic: api.Elastic}, n.gw, n.reg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.Run(ctx)
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
}
