package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/sigilhq/sigil/pkg/client"
)

// pushOptions say how a push is signed.
type pushOptions struct {
	key       string // signing key file ("" = discover)
	bundle    string // an existing bundle file to upload instead of signing
	namespace string // the policy to check against
}

// pushWith reads path and uploads it with a bundle: the given one, else one
// made with the discovered key. Without either it uploads the raw module,
// which a node enforcing signatures refuses with a hint.
func pushWith(ctx context.Context, c *client.Client, path string, tags []string, abi string, o pushOptions) (client.Artifact, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return client.Artifact{}, fmt.Errorf("push: %w", err)
	}
	var bundle []byte
	if o.bundle != "" {
		if bundle, err = os.ReadFile(o.bundle); err != nil {
			return client.Artifact{}, fmt.Errorf("push: %w", err)
		}
	} else if bundle, _, err = signModule(ctx, o.key, c.Gateway(), wasm); err != nil {
		return client.Artifact{}, fmt.Errorf("push: %w", err)
	}
	if bundle == nil {
		return c.PushArtifact(ctx, wasm, tags, abi)
	}
	return c.PushSigned(ctx, wasm, bundle, tags, abi, o.namespace)
}
