package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/internal/tlog"
	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// Error codes of the trust routes.
const (
	CodeUnsigned   = "unsigned"
	CodeUntrusted  = "untrusted"
	CodeInvalidSig = "invalid_signature"
)

// HeaderLogIndex carries the transparency-log index of a deploy, update or
// remove record (faas-cli ignores it, as it ignores the body).
const HeaderLogIndex = "X-Sigil-Log-Index"

// signHint is how every trust refusal says to fix it.
const signHint = "sign it: `sigil push FILE --tag REF` signs with ./.sigil/keys/dev.key, $SIGIL_KEY or --key; " +
	"or `sigil sign FILE` / `cosign sign-blob --key K --bundle F` and `sigil push FILE --bundle F` " +
	"(the API takes multipart/form-data with parts \"module\" and \"bundle\"); the key must be trusted: `sigil trust add KEY.pub`"

func (g *Gateway) trustOn() bool { return g.cfg.Trust != nil }

func (g *Gateway) verifyOptions() trust.VerifyOptions {
	if g.cfg.Tlog == nil {
		return trust.VerifyOptions{}
	}
	tr, err := g.cfg.Tlog.TrustedRoot()
	if err != nil {
		return trust.VerifyOptions{}
	}
	return trust.VerifyOptions{Log: tr}
}

func trustCode(err error) string {
	switch trust.Reason(err) {
	case trust.ReasonUnsigned:
		return CodeUnsigned
	case trust.ReasonUntrusted:
		return CodeUntrusted
	default:
		return CodeInvalidSig
	}
}

// pushTrust checks a pushed module's bundle against ns's policy. It returns
// the verified signature (nil when audit mode let an unverified module in),
// or writes the 403 itself and returns ok=false.
func (g *Gateway) pushTrust(w http.ResponseWriter, ns, digest string, bundleJSON []byte) (*trust.Verified, bool) {
	if !g.trustOn() {
		return nil, true
	}
	p := g.cfg.Trust.Policy(ns)
	v, err := trust.Verify(bundleJSON, digest, p.Keys, g.verifyOptions())
	if err == nil {
		return &v, true
	}
	reason := trust.Reason(err)
	if p.Mode == trust.ModeAudit {
		g.cfg.TrustMetrics.AuditAllowed("push", reason)
		g.log.Warn("trust: audit mode allowed an artifact enforce mode would refuse", "stage", "push",
			"namespace", ns, "digest", digest, "reason", reason, "err", err)
		return nil, true
	}
	g.cfg.TrustMetrics.Denied("push", reason)
	g.log.Warn("trust: push refused", "namespace", ns, "digest", digest, "reason", reason, "err", err)
	jsonError(w, http.StatusForbidden, trustCode(err), fmt.Sprintf("%v (namespace %s enforces signatures); %s", err, ns, signHint))
	return nil, false
}

// recordSignature logs a verified signature as a hashedrekord entry, puts the
// entry into the bundle and stores the bundle for later deploys.
func (g *Gateway) recordSignature(ctx context.Context, digest string, v *trust.Verified) (trust.Signature, error) {
	b := v.Bundle
	sig := trust.Signature{Digest: digest, KeyID: v.KeyID}
	if g.cfg.Tlog != nil {
		ms := b.GetMessageSignature()
		tle, _, err := g.cfg.Tlog.AppendHashedRekord(ctx, ms.GetMessageDigest().GetDigest(), ms.GetSignature(), v.PublicKey)
		if err != nil {
			return trust.Signature{}, fmt.Errorf("log signature: %w", err)
		}
		b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries[:0], tle)
		idx := tle.GetLogIndex()
		sig.LogIndex = &idx
	}
	raw, err := b.MarshalJSON()
	if err != nil {
		return trust.Signature{}, fmt.Errorf("encode bundle: %w", err)
	}
	sig.Bundle = raw
	if err := g.cfg.Trust.PutSignature(ctx, sig); err != nil {
		return trust.Signature{}, err
	}
	return sig, nil
}

// deployTrust checks that digest carries a signature by a key ns trusts.
// It returns the signer's key id ("" when audit mode let it through) or
// writes the 403 itself.
func (g *Gateway) deployTrust(w http.ResponseWriter, r *http.Request, ns, digest string) (string, bool) {
	if !g.trustOn() {
		return "", true
	}
	p := g.cfg.Trust.Policy(ns)
	sig, err := g.cfg.Trust.Check(r.Context(), digest, p, g.verifyOptions())
	if err == nil {
		return sig.KeyID, true
	}
	if !errors.Is(err, trust.ErrUnsigned) && !errors.Is(err, trust.ErrUntrusted) && !errors.Is(err, trust.ErrInvalid) {
		textError(w, http.StatusInternalServerError, "check signatures: "+err.Error())
		return "", false
	}
	reason := trust.Reason(err)
	if p.Mode == trust.ModeAudit {
		g.cfg.TrustMetrics.AuditAllowed("deploy", reason)
		g.log.Warn("trust: audit mode allowed an artifact enforce mode would refuse", "stage", "deploy",
			"namespace", ns, "digest", digest, "reason", reason, "err", err)
		return "", true
	}
	g.cfg.TrustMetrics.Denied("deploy", reason)
	g.log.Warn("trust: deploy refused", "namespace", ns, "digest", digest, "reason", reason, "err", err)
	textError(w, http.StatusForbidden, fmt.Sprintf("%v: namespace %s only runs artifacts signed by a key it trusts; %s", err, ns, signHint))
	return "", false
}

// logAction appends a node-signed deployment record and sets the log-index
// header. It returns false (after answering 500) when the log is unwritable.
func (g *Gateway) logAction(w http.ResponseWriter, r *http.Request, rec tlog.Record) (uint64, error) {
	if g.cfg.Tlog == nil {
		return 0, nil
	}
	if g.trustOn() {
		rec.Mode = g.cfg.Trust.Policy(rec.Namespace).Mode
	}
	rc, err := g.cfg.Tlog.AppendRecord(r.Context(), rec)
	if err != nil {
		g.log.Error("tlog: could not log a deployment record", "record", rec, "err", err)
		return 0, err
	}
	w.Header().Set(HeaderLogIndex, strconv.FormatUint(rc.Index, 10))
	return rc.Index, nil
}

// notLogged answers a change that was rolled back because its log record
// could not be appended: nothing runs that the log does not show.
func notLogged(w http.ResponseWriter, rec tlog.Record, err error) {
	msg := fmt.Sprintf("%s of %s.%s not applied: it could not be logged: %v", rec.Action, rec.Function, rec.Namespace, err)
	if errors.Is(err, tlog.ErrNoWriter) {
		w.Header().Set("Retry-After", "2")
		textError(w, http.StatusServiceUnavailable, msg+"; retry shortly")
		return
	}
	textError(w, http.StatusInternalServerError, msg)
}

// trustNamespace picks ?namespace= (default openfaas-fn) for trust routes.
func trustNamespace(w http.ResponseWriter, r *http.Request) (string, bool) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = registry.DefaultNamespace
	}
	if err := registry.ValidateNamespaceName(ns); err != nil {
		jsonError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return "", false
	}
	return ns, true
}

func toClientPolicy(p trust.Policy) client.TrustPolicy {
	out := client.TrustPolicy{Namespace: p.Namespace, Mode: p.Mode, InheritedFrom: p.InheritedFrom, Keys: []client.TrustedKey{}}
	for _, k := range p.Keys {
		out.Keys = append(out.Keys, client.TrustedKey{ID: k.ID, Name: k.Name, PublicKey: k.PEM, CreatedAt: k.CreatedAt})
	}
	return out
}

func (g *Gateway) trustUnavailable(w http.ResponseWriter) bool {
	if g.trustOn() {
		return false
	}
	jsonError(w, http.StatusNotFound, CodeNotFound, "trust is not enabled on this node")
	return true
}

// getTrustPolicy: GET /system/trust/policy?namespace=NS.
func (g *Gateway) getTrustPolicy(w http.ResponseWriter, r *http.Request) {
	if g.trustUnavailable(w) {
		return
	}
	ns, ok := trustNamespace(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, toClientPolicy(g.cfg.Trust.Policy(ns)))
}

// trustChange is the common start of a policy change: trust is on, the
// namespace is valid, the JSON body decodes into req, and the namespace has
// a policy of its own to change. It answers the error itself.
func (g *Gateway) trustChange(w http.ResponseWriter, r *http.Request, req any) (string, bool) {
	if g.trustUnavailable(w) {
		return "", false
	}
	ns, ok := trustNamespace(w, r)
	if !ok {
		return "", false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody)).Decode(req); err != nil {
		jsonError(w, http.StatusBadRequest, CodeBadRequest, "invalid JSON: "+err.Error())
		return "", false
	}
	if !g.ensurePolicyOf(w, r, ns) {
		return "", false
	}
	return ns, true
}

// putTrustPolicy: PUT /system/trust/policy?namespace=NS {"mode": "audit"}.
func (g *Gateway) putTrustPolicy(w http.ResponseWriter, r *http.Request) {
	var req client.TrustPolicy
	ns, ok := g.trustChange(w, r, &req)
	if !ok {
		return
	}
	p, err := g.cfg.Trust.SetMode(r.Context(), ns, req.Mode)
	if g.trustWriteError(w, err) {
		return
	}
	g.log.Info("trust: mode set", "namespace", ns, "mode", p.Mode)
	writeJSON(w, http.StatusOK, toClientPolicy(p))
}

// ensurePolicyOf copies the inherited policy into ns before its first
// change, so changing one thing does not silently drop the inherited keys.
func (g *Gateway) ensurePolicyOf(w http.ResponseWriter, r *http.Request, ns string) bool {
	if g.cfg.Trust.HasOwnPolicy(ns) {
		return true
	}
	inh := g.cfg.Trust.Policy(ns)
	for _, k := range inh.Keys {
		if _, err := g.cfg.Trust.AddKey(r.Context(), ns, k.Name, []byte(k.PEM)); g.trustWriteError(w, err) {
			return false
		}
	}
	if _, err := g.cfg.Trust.SetMode(r.Context(), ns, inh.Mode); g.trustWriteError(w, err) {
		return false
	}
	return true
}

func (g *Gateway) trustWriteError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, trust.ErrBadRequest):
		jsonError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
	case errors.Is(err, trust.ErrNotFound):
		jsonError(w, http.StatusNotFound, CodeNotFound, err.Error())
	default:
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
	}
	return true
}

// addTrustedKey: POST /system/trust/keys?namespace=NS {"name","publicKey"}.
func (g *Gateway) addTrustedKey(w http.ResponseWriter, r *http.Request) {
	var req client.TrustedKey
	ns, ok := g.trustChange(w, r, &req)
	if !ok {
		return
	}
	k, err := g.cfg.Trust.AddKey(r.Context(), ns, req.Name, []byte(req.PublicKey))
	if g.trustWriteError(w, err) {
		return
	}
	g.log.Info("trust: key added", "namespace", ns, "key", k.ID, "name", k.Name)
	writeJSON(w, http.StatusCreated, client.TrustedKey{ID: k.ID, Name: k.Name, PublicKey: k.PEM, CreatedAt: k.CreatedAt})
}

// removeTrustedKey: DELETE /system/trust/keys/{id}?namespace=NS.
func (g *Gateway) removeTrustedKey(w http.ResponseWriter, r *http.Request) {
	if g.trustUnavailable(w) {
		return
	}
	ns, ok := trustNamespace(w, r)
	if !ok {
		return
	}
	if !g.ensurePolicyOf(w, r, ns) {
		return
	}
	k, err := g.cfg.Trust.RemoveKey(r.Context(), ns, r.PathValue("id"))
	if g.trustWriteError(w, err) {
		return
	}
	g.log.Info("trust: key removed", "namespace", ns, "key", k.ID)
	w.WriteHeader(http.StatusNoContent)
}

// listSignatures: GET /system/trust/signatures?digest=sha256:...
func (g *Gateway) listSignatures(w http.ResponseWriter, r *http.Request) {
	if g.trustUnavailable(w) {
		return
	}
	d := r.URL.Query().Get("digest")
	if d == "" {
		jsonError(w, http.StatusBadRequest, CodeBadRequest, "digest is required")
		return
	}
	sigs, err := g.cfg.Trust.Signatures(r.Context(), d)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	out := make([]client.Signature, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, client.Signature{Digest: s.Digest, KeyID: s.KeyID, LogIndex: s.LogIndex, Bundle: s.Bundle, CreatedAt: s.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// trustedRoot: GET /system/trust/root — the Sigstore trusted_root.json
// naming this node's log, for sigstore-go and `cosign verify-blob --trusted-root`.
func (g *Gateway) trustedRoot(w http.ResponseWriter, _ *http.Request) {
	if g.cfg.Tlog == nil {
		jsonError(w, http.StatusNotFound, CodeNotFound, "the transparency log is not enabled on this node")
		return
	}
	tr, err := g.cfg.Tlog.TrustedRoot()
	if err == nil {
		var b []byte
		if b, err = tr.MarshalJSON(); err == nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
	}
	jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
}

// tlogInfo: GET /system/tlog — origin and public key of the log (so a
// client can pin them) and the latest checkpoint.
func (g *Gateway) tlogInfo(w http.ResponseWriter, r *http.Request) {
	if g.cfg.Tlog == nil {
		jsonError(w, http.StatusNotFound, CodeNotFound, "the transparency log is not enabled on this node")
		return
	}
	cp, err := g.cfg.Tlog.Checkpoint(r.Context())
	if errors.Is(err, tlog.ErrNoWriter) {
		// A cluster between log writers (an election is under way).
		w.Header().Set("Retry-After", "2")
		jsonError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error()+"; retry shortly")
		return
	}
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	pub, err := trust.EncodePublicKey(g.cfg.Tlog.PublicKey())
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, client.TlogInfo{Origin: g.cfg.Tlog.Origin(), PublicKey: string(pub), Size: cp.Size, Checkpoint: string(cp.Raw)})
}

// addTrustRoutes registers the trust and log routes. The log and the
// trusted root are public (auditors need no credentials); changing policy
// needs auth like every other /system route.
func (g *Gateway) addTrustRoutes(mux *http.ServeMux, sys, open func(string, http.HandlerFunc)) {
	sys("GET /system/trust/policy", g.getTrustPolicy)
	sys("PUT /system/trust/policy", g.putTrustPolicy)
	sys("POST /system/trust/keys", g.addTrustedKey)
	sys("DELETE /system/trust/keys/{id}", g.removeTrustedKey)
	sys("GET /system/trust/signatures", g.listSignatures)
	open("GET /system/trust/root", g.trustedRoot)
	open("GET /system/tlog", g.tlogInfo)
	if g.cfg.Tlog != nil {
		mux.Handle("GET /system/tlog/", g.cfg.Tlog.Handler("/system/tlog/"))
	}
}
