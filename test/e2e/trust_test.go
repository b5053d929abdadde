package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// devKey is the developer key `sigil up` created in the node's data dir.
func (n *node) devKey() string { return trust.DevKeyPath(n.dataDir) }

// multipartPush posts module (+ bundle when non-nil) as `sigil push` does.
func (n *node) multipartPush(wasm, bundle []byte, query string) resp {
	n.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("module", "m.wasm")
	_, _ = w.Write(wasm)
	if bundle != nil {
		w, _ = mw.CreateFormFile("bundle", "m.sigstore.json")
		_, _ = w.Write(bundle)
	}
	_ = mw.Close()
	return n.do("POST", "/system/artifacts?"+query, buf.Bytes(), "Content-Type", mw.FormDataContentType())
}

// pushSigned signs guest name with the node's developer key and pushes it.
func (n *node) pushSigned(name, tag, abi string) {
	n.t.Helper()
	wasm := guest(n.t, name)
	k, err := trust.LoadSigningKeyFile(n.devKey())
	if err != nil {
		n.t.Fatal(err)
	}
	b, err := trust.Sign(context.Background(), k, wasm)
	if err != nil {
		n.t.Fatal(err)
	}
	r := n.multipartPush(wasm, b, "tag="+tag+"&abi="+abi)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		n.t.Fatalf("push %s: %d %s", name, r.Status, r.Body)
	}
}

// TestTrustZeroSetup is the issue's must-show: on a fresh data dir, `sigil
// up`, push (signed automatically from ./.sigil), deploy, invoke and verify
// all succeed, while an unsigned upload gets 403 with a hint.
func TestTrustZeroSetup(t *testing.T) {
	work := t.TempDir()
	n := startNode(t, filepath.Join(work, ".sigil"), "--no-auth")
	cfg := filepath.Join(t.TempDir(), "config.yml")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(sigilBin, args...)
		cmd.Dir = work // the default key lookup finds ./.sigil/keys/dev.key
		cmd.Env = append(os.Environ(), "SIGIL_URL="+n.url, "SIGIL_CONFIG="+cfg, "SIGIL_KEY=")
		cmd.Stdin = strings.NewReader("zero")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sigil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run("push", guests["hello"], "--tag", "me/hello:1.0"); !strings.Contains(out, "signer:") || !strings.Contains(out, "log:") {
		t.Fatalf("push is not signed and logged:\n%s", out)
	}
	run("deploy", "--name", "hi", "--image", "me/hello:1.0")
	if out := run("invoke", "hi"); !strings.Contains(out, "Hello, zero") {
		t.Fatalf("invoke: %q", out)
	}
	if out := run("verify", "hi"); !strings.Contains(out, "verified") {
		t.Fatalf("verify: %s", out)
	}
	if out := run("verify", "--audit"); !strings.Contains(out, "audit passed") {
		t.Fatalf("verify --audit: %s", out)
	}

	// The unsigned curl upload of the issue.
	r := n.do("POST", "/system/artifacts?tag=x:1", guest(t, "hello"), "Content-Type", "application/wasm")
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "sigil push") || !strings.Contains(string(r.Body), `"code":"unsigned"`) {
		t.Fatalf("unsigned push: %d %s", r.Status, r.Body)
	}

	// The log survives a restart and the client's last checkpoint still
	// checks out against it.
	n.stop()
	n2 := startNode(t, n.dataDir, "--no-auth")
	n2.pushSigned("echo", "t/echo", "openfaas")
	d := map[string]any{"service": "echo2", "image": "t/echo"}
	res := n2.do("POST", "/system/functions", d)
	if res.Status != http.StatusAccepted || res.Header.Get("X-Sigil-Log-Index") == "" {
		t.Fatalf("deploy after restart: %d %s (log index %q)", res.Status, res.Body, res.Header.Get("X-Sigil-Log-Index"))
	}
	n.url = n2.url
	if out := run("verify", "hi"); !strings.Contains(out, "verified") {
		t.Fatalf("verify after restart: %s", out)
	}
	if out := run("verify", "--audit"); !strings.Contains(out, "4 (2 signatures, 2 deployment records") {
		t.Fatalf("verify --audit after restart: %s", out)
	}
	// Checkpoint and tiles are served read-only, without credentials;
	// Tessera's own state is not.
	if r := n2.do("GET", "/system/tlog/checkpoint", nil); r.Status != 200 || !strings.HasPrefix(string(r.Body), "sigil-") {
		t.Fatalf("checkpoint: %d %s", r.Status, r.Body)
	}
	if r := n2.do("GET", "/system/tlog/.state/treeState", nil); r.Status != 404 {
		t.Fatalf("tessera state is exposed: %d", r.Status)
	}
}

// TestTrustPolicy: wrong key refused at push; unsigned refused at deploy in
// enforce mode and allowed but counted in audit mode; keys added/removed.
func TestTrustPolicy(t *testing.T) {
	n := startNode(t, "")
	c := client.New(n.url, client.WithBasicAuth(n.user, n.pass))
	ctx := context.Background()
	wasm := guest(t, "echo")

	other, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	otherBundle, err := trust.Sign(ctx, other, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if r := n.multipartPush(wasm, otherBundle, "tag=t/echo"); r.Status != 403 || !strings.Contains(string(r.Body), `"code":"untrusted"`) {
		t.Fatalf("push signed by an untrusted key: %d %s", r.Status, r.Body)
	}
	// A bundle over other bytes is refused too.
	if r := n.multipartPush(guest(t, "hello"), otherBundle, "tag=t/echo"); r.Status != 403 {
		t.Fatalf("push with a bundle over other bytes: %d %s", r.Status, r.Body)
	}

	// Audit mode lets the unsigned module in; enforce then refuses to deploy it.
	if _, err := c.SetTrustMode(ctx, "", trust.ModeAudit); err != nil {
		t.Fatal(err)
	}
	if r := n.do("POST", "/system/artifacts?tag=t/unsigned", wasm, "Content-Type", "application/wasm"); r.Status != 201 {
		t.Fatalf("unsigned push in audit mode: %d %s", r.Status, r.Body)
	}
	n.deploy(map[string]any{"service": "audited", "image": "t/unsigned"})
	if _, err := c.SetTrustMode(ctx, "", trust.ModeEnforce); err != nil {
		t.Fatal(err)
	}
	r := n.do("POST", "/system/functions", map[string]any{"service": "refused", "image": "t/unsigned"})
	if r.Status != 403 || !strings.Contains(string(r.Body), "not signed") {
		t.Fatalf("unsigned deploy in enforce mode: %d %s", r.Status, r.Body)
	}
	m := string(n.must(200, "GET", "/metrics", nil).Body)
	for _, want := range []string{
		`sigil_trust_audit_allowed_total{reason="unsigned",stage="deploy"} 1`,
		`sigil_trust_audit_allowed_total{reason="unsigned",stage="push"} 1`,
		`sigil_trust_denied_total{reason="unsigned",stage="deploy"} 1`,
		`sigil_trust_denied_total{reason="untrusted",stage="push"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Trusting the other key makes its signature acceptable; removing the
	// developer key makes the developer's refused.
	pub, _ := trust.EncodePublicKey(other.Public())
	k, err := c.AddTrustedKey(ctx, "", "other", pub)
	if err != nil {
		t.Fatal(err)
	}
	if r := n.multipartPush(wasm, otherBundle, "tag=t/echo"); r.Status != 201 && r.Status != 200 {
		t.Fatalf("push by a newly trusted key: %d %s", r.Status, r.Body)
	}
	n.deploy(map[string]any{"service": "signed", "image": "t/echo"})
	p, err := c.TrustPolicy(ctx, "")
	if err != nil || len(p.Keys) != 2 {
		t.Fatalf("policy: %+v %v", p, err)
	}
	for _, key := range p.Keys {
		if key.ID != k.ID {
			if err := c.RemoveTrustedKey(ctx, "", key.ID[:12]); err != nil {
				t.Fatal(err)
			}
		}
	}
	devSigned := guest(t, "hello")
	dk, _ := trust.LoadSigningKeyFile(n.devKey())
	db, _ := trust.Sign(ctx, dk, devSigned)
	if r := n.multipartPush(devSigned, db, "tag=t/hello"); r.Status != 403 {
		t.Fatalf("push by a removed key: %d %s", r.Status, r.Body)
	}
	// A namespace without a policy inherits openfaas-fn's.
	n.must(http.StatusCreated, "POST", "/system/namespace/", map[string]any{"name": "team-a", "labels": map[string]string{"openfaas": "1"}})
	pa, err := c.TrustPolicy(ctx, "team-a")
	if err != nil || pa.InheritedFrom != "openfaas-fn" || len(pa.Keys) != 1 {
		t.Fatalf("team-a policy: %+v %v", pa, err)
	}
	var sigs []client.Signature
	if err := json.Unmarshal(n.must(200, "GET", "/system/trust/signatures?digest="+artifactDigest(t, n, "t/echo"), nil).Body, &sigs); err != nil || len(sigs) != 1 || sigs[0].LogIndex == nil {
		t.Fatalf("signatures: %+v %v", sigs, err)
	}
}

func artifactDigest(t *testing.T, n *node, tag string) string {
	t.Helper()
	var arts []client.Artifact
	mustJSON(t, n.must(200, "GET", "/system/artifacts", nil).Body, &arts)
	for _, a := range arts {
		for _, tg := range a.Tags {
			if strings.HasSuffix(tg, tag+":latest") {
				return a.Digest
			}
		}
	}
	t.Fatalf("no artifact tagged %s", tag)
	return ""
}
