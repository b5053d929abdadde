package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigilhq/sigil/pkg/client"
)

// TestCosignInterop runs only when `cosign` (v2) is on PATH:
//
//	go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
//	PATH=$PATH:$(go env GOPATH)/bin go test -run TestCosignInterop ./test/e2e/
//
// A `cosign sign-blob` bundle is accepted by `sigil push --bundle`, and the
// bundle Sigil returns (with its transparency-log entry) passes `cosign
// verify-blob` given Sigil's trusted_root.json — with the log checked.
func TestCosignInterop(t *testing.T) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH")
	}
	n := startNode(t, "", "--no-auth")
	dir := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=interop", "SIGIL_URL="+n.url, "SIGIL_CONFIG="+filepath.Join(dir, "config.yml"), "SIGIL_KEY=")
	run := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	wasm := filepath.Join(dir, "echo.wasm")
	if err := os.WriteFile(wasm, guest(t, "echo"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(cosign, "generate-key-pair")
	run(sigilBin, "trust", "add", "cosign.pub", "--name", "cosign")
	run(cosign, "sign-blob", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--new-bundle-format", "--bundle", "cosign.sigstore.json", wasm)
	if out := run(sigilBin, "push", wasm, "--bundle", "cosign.sigstore.json", "--tag", "cz:1"); !strings.Contains(out, "signer:") {
		t.Fatalf("push with a cosign bundle:\n%s", out)
	}
	run(sigilBin, "deploy", "--name", "cz", "--image", "cz:1")
	run(sigilBin, "verify", "cz", "--key", "cosign.pub")

	// Sigil → cosign: the bundle Sigil stored carries the log entry.
	var sigs []client.Signature
	var arts []client.Artifact
	mustJSON(t, n.must(200, "GET", "/system/artifacts", nil).Body, &arts)
	mustJSON(t, n.must(200, "GET", "/system/trust/signatures?digest="+arts[0].Digest, nil).Body, &sigs)
	if len(sigs) != 1 {
		t.Fatalf("signatures: %+v", sigs)
	}
	b, _ := json.Marshal(sigs[0].Bundle)
	_ = os.WriteFile(filepath.Join(dir, "sigil.sigstore.json"), b, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "trusted_root.json"), n.must(200, "GET", "/system/trust/root", nil).Body, 0o644)
	run(cosign, "verify-blob", "--key", "cosign.pub", "--bundle", "sigil.sigstore.json", "--new-bundle-format",
		"--trusted-root", "trusted_root.json", wasm)
	// `sigil sign` bundles verify with cosign too (no log entry yet).
	run(sigilBin, "sign", wasm, "--key", "cosign.key", "-o", "own.sigstore.json")
	run(cosign, "trusted-root", "create", "--out", "empty-root.json")
	run(cosign, "verify-blob", "--key", "cosign.pub", "--bundle", "own.sigstore.json", "--new-bundle-format",
		"--trusted-root", "empty-root.json", "--insecure-ignore-tlog=true", wasm)
}
