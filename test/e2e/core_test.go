package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

// TestPushDeployInvoke is the acceptance flow: push with the CLI,
// deploy with faas-cli's PUT-then-POST, invoke the C echo.
func TestPushDeployInvoke(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	// Exactly as a user would, with no key configured: the node recorded its
	// developer key for its loopback gateway address, so the CLI signs.
	stdout, stderr, err := runCLI(t, []string{"SIGIL_URL=" + n.url, "SIGIL_KEY="}, "", "push", guests["echo"], "--tag", "t/echo:latest", "--abi", "openfaas")
	if err != nil {
		t.Fatalf("sigil push: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "sha256:") {
		t.Fatalf("push output lacks the digest: %q", stdout)
	}
	d := map[string]any{"service": "echo", "image": "t/echo:latest"}
	n.must(http.StatusNotFound, "PUT", "/system/functions", d)
	n.must(http.StatusAccepted, "POST", "/system/functions", d)
	body := "hello, \x00binary\nworld"
	r := n.must(http.StatusOK, "POST", "/function/echo", body, "Content-Type", "application/octet-stream")
	if string(r.Body) != body {
		t.Fatalf("echo answered %q, want %q", r.Body, body)
	}
	for _, h := range []string{"X-Call-Id", "X-Start-Time", "X-Duration-Seconds"} {
		if r.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q, want the request's", ct)
	}
	// faas-cli addresses name.namespace; both spellings work.
	r = n.must(http.StatusOK, "POST", "/function/echo.openfaas-fn", "x")
	if string(r.Body) != "x" {
		t.Fatalf("echo.openfaas-fn answered %q", r.Body)
	}
	// The image string is echoed back byte for byte.
	var st client.FunctionStatus
	mustJSON(t, n.must(http.StatusOK, "GET", "/system/function/echo?usage=1", nil).Body, &st)
	if st.Image != "t/echo:latest" || st.Labels == nil || (*st.Labels)["faas_function"] != "echo" {
		t.Fatalf("status %+v", st)
	}
	if st.EnvVars != nil {
		t.Errorf("envVars should be omitted when empty")
	}
	if !strings.Contains(string(n.must(200, "GET", "/system/function/echo", nil).Body), `"invocationCount":2`) {
		t.Errorf("invocationCount not 2")
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestExamplesLifecycle deploys every example, invokes it, updates it,
// invokes again and removes it.
func TestExamplesLifecycle(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("hello", "sigil/hello", "openfaas")
	n.push("echo", "sigil/echo", "openfaas")
	n.push("env", "sigil/env", "openfaas")
	n.push("coreutils", "sigil/coreutils", "openfaas")
	n.push("redirect", "sigil/redirect", "wagi")
	n.push("gif", "sigil/gif", "openfaas")

	n.deploy(map[string]any{"service": "hello", "image": "sigil/hello:latest", "labels": map[string]string{}, "annotations": map[string]string{}})
	r := n.must(200, "POST", "/function/hello", "Sigil")
	if !strings.Contains(string(r.Body), "Hello, Sigil") {
		t.Fatalf("hello: %q", r.Body)
	}

	n.deploy(map[string]any{"service": "env", "image": "docker.io/sigil/env:latest", "envVars": map[string]string{"custom": "1"}})
	r = n.must(200, "GET", "/function/env/some/path?q=1", nil, "X-Test", "yes")
	for _, want := range []string{"custom=1", "Http_Method=GET", "Http_Path=/some/path", "Http_Query=q=1", "Http_X_Test=yes", "Http_X_Call_Id="} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("env output lacks %q:\n%s", want, r.Body)
		}
	}
	if strings.Contains(string(r.Body), "HOME=") || strings.Contains(string(r.Body), "PATH=") {
		t.Errorf("host environment leaked into the guest:\n%s", r.Body)
	}
	// Update: new env reaches the very next invocation.
	n.deploy(map[string]any{"service": "env", "image": "sigil/env", "envVars": map[string]string{"custom": "2"}})
	r = n.must(200, "GET", "/function/env", nil)
	if !strings.Contains(string(r.Body), "custom=2") {
		t.Fatalf("update not applied:\n%s", r.Body)
	}

	n.deploy(map[string]any{"service": "sha", "image": "sigil/coreutils", "envProcess": "sha512sum"})
	r = n.must(200, "POST", "/function/sha", "abc")
	if !strings.HasPrefix(string(r.Body), "ddaf35a193617aba") {
		t.Fatalf("sha512sum: %q", r.Body)
	}

	n.deploy(map[string]any{"service": "redirect", "image": "sigil/redirect", "envVars": map[string]string{"destination": "https://sigil.example/x"}})
	r = n.must(http.StatusFound, "GET", "/function/redirect", nil)
	if loc := r.Header.Get("Location"); loc != "https://sigil.example/x" {
		t.Fatalf("Location %q", loc)
	}

	n.deploy(map[string]any{"service": "gif", "image": "sigil/gif", "envVars": map[string]string{"content_type": "image/gif"}})
	r = n.must(200, "POST", "/function/gif", tinyPNG(t))
	if !bytes.HasPrefix(r.Body, []byte("GIF8")) || r.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("gif: %q %q", r.Header.Get("Content-Type"), r.Body[:min(8, len(r.Body))])
	}

	var list []client.FunctionStatus
	mustJSON(t, n.must(200, "GET", "/system/functions", nil).Body, &list)
	if len(list) != 5 {
		t.Fatalf("list has %d functions, want 5", len(list))
	}
	for _, name := range []string{"hello", "env", "sha", "redirect", "gif"} {
		n.must(http.StatusAccepted, "DELETE", "/system/functions", map[string]string{"functionName": name})
		n.must(http.StatusNotFound, "POST", "/function/"+name, "x")
	}
	n.must(http.StatusNotFound, "DELETE", "/system/functions", map[string]string{"functionName": "hello"})
}

// TestSecrets: a secret reaches the function as a read-only file, updates are
// seen, values never leave through the API, and a missing secret is a 400.
func TestSecrets(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("coreutils", "sigil/coreutils", "openfaas")
	n.must(http.StatusCreated, "POST", "/system/secrets", map[string]string{"name": "api-key", "value": "hunter2"})
	n.must(http.StatusConflict, "POST", "/system/secrets", map[string]string{"name": "api-key", "value": "x"})
	n.must(http.StatusBadRequest, "POST", "/system/secrets", map[string]string{"name": "../etc", "value": "x"})
	n.must(http.StatusBadRequest, "POST", "/system/functions", map[string]any{
		"service": "reader", "image": "sigil/coreutils", "envProcess": "cat /var/openfaas/secrets/nope", "secrets": []string{"nope"}})
	n.deploy(map[string]any{"service": "reader", "image": "sigil/coreutils", "envProcess": "cat /var/openfaas/secrets/api-key", "secrets": []string{"api-key"}})
	if r := n.must(200, "POST", "/function/reader", nil); string(r.Body) != "hunter2" {
		t.Fatalf("secret read %q", r.Body)
	}
	n.must(http.StatusOK, "PUT", "/system/secrets", map[string]string{"name": "api-key", "value": "hunter3"})
	if r := n.must(200, "POST", "/function/reader", nil); string(r.Body) != "hunter3" {
		t.Fatalf("updated secret read %q", r.Body)
	}
	list := n.must(200, "GET", "/system/secrets", nil)
	if strings.Contains(string(list.Body), "hunter") || !strings.Contains(string(list.Body), `"api-key"`) {
		t.Fatalf("secret list: %s", list.Body)
	}
	n.must(http.StatusNotFound, "PUT", "/system/secrets", map[string]string{"name": "other", "value": "x"})
	n.must(http.StatusOK, "DELETE", "/system/secrets", map[string]string{"name": "api-key"})
	n.must(http.StatusNotFound, "DELETE", "/system/secrets", map[string]string{"name": "api-key"})
}

// TestAuth: /system/* needs the generated credentials; functions, healthz
// and metrics do not.
func TestAuth(t *testing.T) {
	n := startNode(t, "")
	if n.user == "" || n.pass == "" {
		t.Fatal("credentials were not generated under DATA/secrets")
	}
	if !strings.Contains(n.logs(), n.pass) {
		t.Error("generated password was not printed on first start")
	}
	req, _ := http.NewRequest("GET", n.url+"/system/functions", nil)
	req.Header.Set("Authorization", "Bearer")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != `Basic realm="Restricted"` {
		t.Fatalf("no credentials: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	req, _ = http.NewRequest("GET", n.url+"/system/functions", nil)
	req.SetBasicAuth(n.user, "wrong")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	n.must(200, "GET", "/system/functions", nil)
	for _, p := range []string{"/healthz", "/metrics"} {
		res, err := http.Get(n.url + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d without credentials", p, res.StatusCode)
		}
	}
	// Unknown functions are 404, not 401: invocation is public.
	if r := n.do("POST", "/function/nope", "x"); r.Status != 404 {
		t.Fatalf("unknown function: %d", r.Status)
	}
	// A restart reuses the credentials and does not print them again.
	n.stop()
	m := startNode(t, n.dataDir)
	if m.pass != n.pass || strings.Contains(m.logs(), n.pass) {
		t.Fatal("credentials changed or were printed again on restart")
	}
	m.must(200, "GET", "/system/info", nil)
}

// TestHostileGuests: an endless loop, a memory bomb, a flood of output and a
// trap each get a clear status while another function keeps answering.
func TestHostileGuests(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	for _, g := range []string{"loop", "membomb", "flood", "trap", "echo"} {
		n.push(g, "t/"+g, "openfaas")
	}
	n.deploy(map[string]any{"service": "loop", "image": "t/loop", "envVars": map[string]string{"exec_timeout": "1s"}})
	n.deploy(map[string]any{"service": "membomb", "image": "t/membomb", "limits": map[string]string{"memory": "16Mi"}})
	n.deploy(map[string]any{"service": "flood", "image": "t/flood", "envVars": map[string]string{"exec_timeout": "60s"}})
	n.deploy(map[string]any{"service": "trap", "image": "t/trap"})
	n.deploy(map[string]any{"service": "echo", "image": "t/echo"})

	cases := []struct {
		fn     string
		status int
		msg    string
	}{
		{"loop", http.StatusGatewayTimeout, "timed out"},
		{"membomb", http.StatusInternalServerError, ""},
		{"flood", http.StatusBadGateway, "output exceeded"},
		{"trap", http.StatusInternalServerError, "trapped"},
	}
	stop := n.keepCalling("/function/echo", http.StatusOK) // a well-behaved function keeps answering meanwhile
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			start := time.Now()
			r := n.do("POST", "/function/"+c.fn, "x")
			if r.Status != c.status || !strings.Contains(string(r.Body), c.msg) {
				t.Fatalf("%s: %d %q, want %d containing %q", c.fn, r.Status, r.Body, c.status, c.msg)
			}
			t.Logf("%s: %d %q in %s", c.fn, r.Status, strings.TrimSpace(string(r.Body)), time.Since(start).Round(time.Millisecond))
		})
	}
	echoes, failed, echoErr := stop()
	if failed > 0 {
		t.Fatalf("echo failed %d times while hostile guests ran, first: %v", failed, echoErr)
	}
	if echoes == 0 {
		t.Fatal("echo never answered while hostile guests ran")
	}
	// Failures are in the function's log and the node is still healthy.
	n.must(200, "GET", "/healthz", nil)
	r := n.must(200, "GET", "/system/logs?follow=false&name=loop&tail=-1", nil)
	if !strings.Contains(string(r.Body), "timed out") {
		t.Errorf("loop's timeout not in its logs: %s", r.Body)
	}
	metrics := string(n.must(200, "GET", "/metrics", nil).Body)
	if !strings.Contains(metrics, `sigil_active_instances 0`) {
		t.Errorf("instances still active after hostile guests:\n%s", grepLines(metrics, "sigil_active"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
