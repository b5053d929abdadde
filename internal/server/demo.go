package server

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/sigilhq/sigil/internal/build"
	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// runDemo builds every example with the local toolchains, pushes it and
// deploys it through the node's own HTTP API — the same path a user takes —
// so `sigil up --demo` shows real functions. Examples whose toolchain is
// missing are skipped with a hint.
func (n *Node) runDemo(ctx context.Context) {
	var opts []client.Option
	if n.creds != nil {
		opts = append(opts, client.WithBasicAuth(n.creds.User, n.creds.Password))
	}
	c := client.New(n.URL(), opts...)
	outDir := filepath.Join(n.cfg.DataDir, "build")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		n.log.Error("demo: cannot create build dir", "err", err)
		return
	}
	began := time.Now()
	deployed := 0
	for _, e := range build.Examples() {
		if ctx.Err() != nil {
			return
		}
		if !build.Available(e.Lang) {
			n.log.Warn("demo: skipping example, toolchain missing", "example", e.Name, "lang", e.Lang,
				"hint", "run scripts/install-deps.sh (clang, lld, wasi-libc)")
			continue
		}
		path, err := build.BuildExample(ctx, n.cfg.RepoRoot, e, outDir)
		if err != nil {
			n.log.Error("demo: build failed", "example", e.Name, "err", err)
			continue
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			n.log.Error("demo: read module", "example", e.Name, "err", err)
			continue
		}
		bundle, err := trust.Sign(ctx, n.keys.Dev, wasm)
		if err != nil {
			n.log.Error("demo: sign failed", "example", e.Name, "err", err)
			continue
		}
		art, err := c.PushSigned(ctx, wasm, bundle, []string{e.Image}, e.ABI, "")
		if err != nil {
			n.log.Error("demo: push failed", "example", e.Name, "err", err)
			continue
		}
		d := client.FunctionDeployment{Service: e.Name, Image: e.Image, EnvProcess: e.FProcess, EnvVars: e.EnvVars}
		if err := c.Deploy(ctx, d, true); err != nil {
			n.log.Error("demo: deploy failed", "example", e.Name, "err", err)
			continue
		}
		deployed++
		n.log.Info("demo: deployed", "function", e.Name, "digest", art.Digest, "abi", e.ABI,
			"url", n.URL()+"/function/"+e.Name)
	}
	n.log.Info("demo: examples deployed", "count", deployed, "took", time.Since(began).Round(time.Millisecond).String(),
		"try", "curl -d 'Sigil' "+n.URL()+"/function/hello")
}
