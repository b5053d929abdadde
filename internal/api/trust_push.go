package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/sigilhq/sigil/internal/registry"
)

// maxBundleBytes bounds a pushed Sigstore bundle.
const maxBundleBytes = 1 << 20

// readPush reads a pushed module and its optional bundle. Two transports:
// the raw .wasm as the body (no signature), or multipart/form-data with a
// "module" part and a "bundle" part (a Sigstore bundle JSON, e.g. from
// `cosign sign-blob --bundle`). It answers errors itself.
func (g *Gateway) readPush(w http.ResponseWriter, r *http.Request) (wasm, bundle []byte, ok bool) {
	wasm, bundle, ok = g.readPushParts(w, r)
	// Refuse what is plainly not Wasm before the signature check, so the
	// answer says what is wrong with the upload itself.
	if ok && len(wasm) > 0 && !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		jsonError(w, http.StatusBadRequest, CodeInvalidModule, "not a valid WASI command module: missing the \\0asm header")
		return nil, nil, false
	}
	return wasm, bundle, ok
}

func (g *Gateway) readPushParts(w http.ResponseWriter, r *http.Request) (wasm, bundle []byte, ok bool) {
	body := http.MaxBytesReader(w, r.Body, g.cfg.MaxArtifactBytes+maxBundleBytes+64<<10)
	readErr := func(err error) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			jsonError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("module exceeds the %d byte limit", g.cfg.MaxArtifactBytes))
			return
		}
		jsonError(w, http.StatusBadRequest, CodeBadRequest, "read module: "+err.Error())
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxArtifactBytes))
		if err != nil {
			readErr(err)
			return nil, nil, false
		}
		return b, nil, true
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr(err)
			return nil, nil, false
		}
		var limit int64
		var dst *[]byte
		switch p.FormName() {
		case "module":
			limit, dst = g.cfg.MaxArtifactBytes, &wasm
		case "bundle":
			limit, dst = maxBundleBytes, &bundle
		default:
			jsonError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("unexpected multipart part %q (want \"module\" and \"bundle\")", p.FormName()))
			return nil, nil, false
		}
		b, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			readErr(err)
			return nil, nil, false
		}
		if int64(len(b)) > limit {
			if p.FormName() == "module" {
				jsonError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("module exceeds the %d byte limit", g.cfg.MaxArtifactBytes))
			} else {
				jsonError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("bundle exceeds the %d byte limit", maxBundleBytes))
			}
			return nil, nil, false
		}
		*dst = b
	}
	return wasm, bundle, true
}

// pushNamespace is the namespace whose policy a push is checked against.
func pushNamespace(w http.ResponseWriter, r *http.Request) (string, bool) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		return registry.DefaultNamespace, true
	}
	if err := registry.ValidateNamespaceName(ns); err != nil {
		jsonError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return "", false
	}
	return ns, true
}
