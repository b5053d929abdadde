package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

// TestCLI drives a node with auth on through the sigil CLI only, as a user
// following the README would.
func TestCLI(t *testing.T) {
	n := startNode(t, "")
	env := []string{"SIGIL_URL=" + n.url, "SIGIL_CONFIG=" + filepath.Join(t.TempDir(), "config.yml"), "SIGIL_KEY=" + n.devKey()}
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, err := runCLI(t, env, stdin, args...)
		if err != nil {
			t.Fatalf("sigil %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	// Without a login every system command fails with one clear line.
	_, errOut, err := runCLI(t, env, "", "list")
	if err == nil || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "sigil login") {
		t.Fatalf("list without login: err=%v stderr=%q", err, errOut)
	}
	run(n.pass+"\n", "login", "--username", n.user, "--password-stdin")
	run("", "push", guests["hello"], "--tag", "me/hello:1.0")
	run("", "deploy", "--name", "hi", "--image", "me/hello:1.0", "--env", "greeting=hi", "--label", "team=a")
	if out := run("", "list"); !strings.Contains(out, "hi") || !strings.Contains(out, "me/hello:1.0") {
		t.Fatalf("list:\n%s", out)
	}
	if out := run("Sigil", "invoke", "hi"); !strings.Contains(out, "Hello, Sigil") {
		t.Fatalf("invoke: %q", out)
	}
	eventually(t, 10*time.Second, "describe says Ready", func() bool {
		return strings.Contains(run("", "describe", "hi"), "Ready")
	})
	run("", "secret", "create", "api-key", "--from-literal", "s3cret")
	if out := run("", "secret", "list"); !strings.Contains(out, "api-key") || strings.Contains(out, "s3cret") {
		t.Fatalf("secret list:\n%s", out)
	}
	run("", "scale", "hi", "--replicas", "2")
	var st client.FunctionStatus
	if err := json.Unmarshal(n.must(200, "GET", "/system/function/hi", nil).Body, &st); err != nil || st.Replicas != 2 {
		t.Fatalf("after sigil scale: %+v %v", st, err)
	}
	run("", "remove", "hi")
	_, errOut, err = runCLI(t, env, "x", "invoke", "hi")
	if err == nil || !strings.Contains(errOut, "404") {
		t.Fatalf("invoke after remove: err=%v stderr=%q", err, errOut)
	}
	// A wrong gateway is one line and a non-zero exit, not a stack trace.
	_, errOut, err = runCLI(t, []string{"SIGIL_URL=http://127.0.0.1:1"}, "", "list")
	if err == nil || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("unreachable gateway: err=%v stderr=%q", err, errOut)
	}
}

// TestDemo: `sigil up --demo` builds, pushes and deploys the examples.
func TestDemo(t *testing.T) {
	n := startNode(t, "", "--no-auth", "--demo", "--examples-root", repoRoot)
	eventually(t, 3*time.Minute, "all six examples deployed by --demo", func() bool {
		var fns []client.FunctionStatus
		_ = json.Unmarshal(n.do("GET", "/system/functions", nil).Body, &fns)
		return len(fns) == 6
	})
	if r := n.must(200, "POST", "/function/hello", "demo"); !strings.Contains(string(r.Body), "Hello, demo") {
		t.Fatalf("demo hello: %q", r.Body)
	}
	if r := n.must(200, "POST", "/function/echo", "e"); string(r.Body) != "e" {
		t.Fatalf("demo echo: %q", r.Body)
	}
	if r := n.do("GET", "/function/redirect", nil); r.Status != 302 {
		t.Fatalf("demo redirect: %d", r.Status)
	}
}

// TestUpPortInUse: a node that cannot bind says so in one line and exits
// non-zero, releasing what it had started.
func TestUpPortInUse(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	addr := strings.TrimPrefix(n.url, "http://")
	_, errOut, err := runCLI(t, nil, "", "up", "--no-auth", "--listen", addr, "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(errOut, "address already in use") || strings.Contains(errOut, "panic") {
		t.Fatalf("second node on %s: err=%v\n%s", addr, err, errOut)
	}
	n.must(200, "GET", "/healthz", nil)
}
