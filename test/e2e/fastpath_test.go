package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

// TestNewDeployInvoke: from nothing to a running, invoked function in three
// commands, for each template language.
func TestNewDeployInvoke(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	for _, lang := range []string{"c", "go"} {
		t.Run(lang, func(t *testing.T) {
			dir := t.TempDir()
			name := "new-" + lang
			env := []string{"SIGIL_URL=" + n.url, "SIGIL_KEY=" + n.devKey()}
			run := func(stdin string, args ...string) string {
				t.Helper()
				out, errOut, err := runCLI(t, env, stdin, args...)
				if err != nil {
					t.Fatalf("sigil %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
				}
				return out
			}
			run("", "new", name, "--lang", lang, "--dir", dir)
			out := run("", "deploy", "-f", filepath.Join(dir, name, "sigil.yml"))
			if !strings.Contains(out, "Built "+name) || !strings.Contains(out, "Deployed.") || !strings.Contains(out, "Transparency log index: ") {
				t.Fatalf("deploy -f did not build and deploy:\n%s", out)
			}
			if got := run("you", "invoke", name); !strings.Contains(got, "Hello, you!") {
				t.Fatalf("invoke: %q", got)
			}
			// A second deploy of unchanged sources still works (rebuild is cheap).
			run("", "deploy", "-f", filepath.Join(dir, name, "sigil.yml"))
		})
	}
}

// TestAutoscaleToZero: with com.openfaas.scale.zero the autoscaler frees an
// idle function, and the next request brings it back without an error.
func TestAutoscaleToZero(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("echo", "t/echo", "openfaas")
	n.deploy(map[string]any{"service": "sleepy", "image": "t/echo",
		"labels": map[string]string{"com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "1s"}})
	n.must(200, "POST", "/function/sleepy", "x")
	status := func() client.FunctionStatus {
		var st client.FunctionStatus
		if err := json.Unmarshal(n.must(200, "GET", "/system/function/sleepy", nil).Body, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	eventually(t, 20*time.Second, "idle function scaled to zero by the autoscaler", func() bool {
		st := status()
		return st.Replicas == 0 && st.AvailableReplicas == 0
	})
	if r := n.must(200, "POST", "/function/sleepy", "again"); string(r.Body) != "again" {
		t.Fatalf("scale from zero: %q", r.Body)
	}
	eventually(t, 10*time.Second, "back to one replica", func() bool { return status().Replicas == 1 })
}
