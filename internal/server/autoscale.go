package server

import (
	"context"

	"github.com/sigilhq/sigil/internal/api"
	"github.com/sigilhq/sigil/internal/autoscale"
)

// startAutoscaler runs the autoscaler on this node. Pooled functions follow
// their load; every function with com.openfaas.scale.zero=true goes to zero
// when idle. In a cluster every node decides from its own load; see
// docs/RATIONALE.md.
func (n *Node) startAutoscaler() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stopScaler, n.scalerDone = cancel, make(chan struct{})
	sc := autoscale.New(autoscale.Config{Logger: n.log, Elastic: api.Elastic}, n.gw, n.reg)
	go func() {
		defer close(n.scalerDone)
		sc.Run(ctx)
	}()
}
