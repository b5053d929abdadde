package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sigilhq/sigil/internal/abi"
	"github.com/sigilhq/sigil/internal/artifact"
	"github.com/sigilhq/sigil/internal/runtime"
	"github.com/sigilhq/sigil/pkg/client"
)

func toClientArtifact(a artifact.Artifact) client.Artifact {
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	return client.Artifact{Digest: a.Digest, Size: a.Size, ABI: a.ABI, Tags: tags, Created: a.Created}
}

// pushArtifact stores a module: POST /system/artifacts?tag=REF&abi=A with
// the raw .wasm as body. The bytes must compile as a WASI command module;
// compiling here also warms the runtime so the first deploy is instant.
func (g *Gateway) pushArtifact(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, err := abi.ParseKind(q.Get("abi"))
	if err != nil {
		jsonError(w, http.StatusBadRequest, CodeInvalidABI, err.Error())
		return
	}
	tags := make([]string, 0, len(q["tag"]))
	for _, t := range q["tag"] {
		n, err := artifact.NormalizeRef(t)
		if err != nil {
			jsonError(w, http.StatusBadRequest, CodeInvalidRef, fmt.Sprintf("invalid tag %q: %v", t, err))
			return
		}
		if _, isDigest := artifact.ParseDigest(n); isDigest {
			jsonError(w, http.StatusBadRequest, CodeInvalidRef, fmt.Sprintf("invalid tag %q: a digest cannot be used as a tag", t))
			return
		}
		tags = append(tags, n)
	}
	ns, ok := pushNamespace(w, r)
	if !ok {
		return
	}
	wasm, bundle, ok := g.readPush(w, r)
	if !ok {
		return
	}
	if len(wasm) == 0 {
		jsonError(w, http.StatusBadRequest, CodeInvalidModule, "empty body: send the .wasm file as the request body")
		return
	}
	sum := sha256.Sum256(wasm)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	verified, ok := g.pushTrust(w, ns, digest, bundle)
	if !ok {
		return
	}
	_, statErr := g.cfg.Artifacts.Stat(r.Context(), digest)
	existed := statErr == nil
	compileStart := time.Now()
	err = g.cfg.Runtime.Compile(r.Context(), digest, wasm)
	if g.cfg.Metrics != nil {
		result := "ok"
		if err != nil {
			result = "error"
		}
		g.cfg.Metrics.Compiled(result, time.Since(compileStart))
	}
	if err != nil {
		if errors.Is(err, runtime.ErrInvalidModule) {
			jsonError(w, http.StatusBadRequest, CodeInvalidModule, "not a valid WASI command module: "+err.Error())
			return
		}
		jsonError(w, http.StatusInternalServerError, CodeInternal, "compile: "+err.Error())
		return
	}
	a, err := g.cfg.Artifacts.Put(r.Context(), wasm, string(kind), tags)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, "store artifact: "+err.Error())
		return
	}
	out := toClientArtifact(a)
	if verified != nil {
		sig, err := g.recordSignature(r.Context(), digest, verified)
		if err != nil {
			jsonError(w, http.StatusInternalServerError, CodeInternal, "record signature: "+err.Error())
			return
		}
		out.SignerKeyID, out.Bundle, out.LogIndex = sig.KeyID, sig.Bundle, sig.LogIndex
	}
	g.log.Info("artifact pushed", "digest", a.Digest, "size", a.Size, "abi", a.ABI, "tags", tags, "signer", out.SignerKeyID)
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func (g *Gateway) listArtifacts(w http.ResponseWriter, r *http.Request) {
	as, err := g.cfg.Artifacts.List(r.Context())
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, "list artifacts: "+err.Error())
		return
	}
	out := make([]client.Artifact, 0, len(as))
	for _, a := range as {
		out = append(out, toClientArtifact(a))
	}
	writeJSON(w, http.StatusOK, out)
}
