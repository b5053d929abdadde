package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := 0; x < 16; x++ {
		img.Set(x, x, color.RGBA{255, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRestartKeepsState: functions, secrets and artifacts survive a restart,
// and the restarted node serves them.
func TestRestartKeepsState(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("coreutils", "sigil/coreutils", "openfaas")
	n.must(201, "POST", "/system/secrets", map[string]string{"name": "s1", "value": "kept"})
	n.deploy(map[string]any{"service": "reader", "image": "sigil/coreutils", "envProcess": "cat /var/openfaas/secrets/s1", "secrets": []string{"s1"}})
	n.must(200, "POST", "/function/reader", nil)
	n.stop()

	m := startNode(t, n.dataDir, "--no-auth")
	if r := m.must(200, "POST", "/function/reader", nil); string(r.Body) != "kept" {
		t.Fatalf("after restart: %q", r.Body)
	}
	var arts []client.Artifact
	mustJSON(t, m.must(200, "GET", "/system/artifacts", nil).Body, &arts)
	if len(arts) != 1 || len(arts[0].Tags) != 1 || arts[0].Tags[0] != "sigil/coreutils:latest" {
		t.Fatalf("artifacts after restart: %+v", arts)
	}
	if !strings.Contains(string(m.must(200, "GET", "/system/secrets", nil).Body), `"s1"`) {
		t.Fatal("secret lost")
	}
}

// TestBadInput: each malformed request gets a precise status and message.
func TestBadInput(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("echo", "t/echo", "openfaas")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		msg                string
	}{
		{"malformed json", "POST", "/system/functions", "{not json", 400, "invalid JSON"},
		{"empty body", "POST", "/system/functions", "", 400, "empty"},
		{"invalid name", "POST", "/system/functions", map[string]string{"service": "Bad_Name", "image": "t/echo"}, 400, "Bad_Name"},
		{"unknown image", "POST", "/system/functions", map[string]string{"service": "x", "image": "nope/nope:1"}, 400, "image not found: push it with 'sigil push'"},
		{"junk image", "POST", "/system/functions", map[string]string{"service": "x", "image": "t/echo:latest-fatal: not a git repository"}, 400, "invalid image reference"},
		{"bad memory", "POST", "/system/functions", map[string]any{"service": "x", "image": "t/echo", "limits": map[string]string{"memory": "lots"}}, 400, "limits.memory"},
		{"bad timeout", "POST", "/system/functions", map[string]any{"service": "x", "image": "t/echo", "envVars": map[string]string{"exec_timeout": "soon"}}, 400, "exec_timeout"},
		{"bad abi annotation", "POST", "/system/functions", map[string]any{"service": "x", "image": "t/echo", "annotations": map[string]string{"com.sigil.abi": "cgi"}}, 400, "com.sigil.abi"},
		{"unknown namespace", "POST", "/system/functions", map[string]any{"service": "x", "image": "t/echo", "namespace": "nope"}, 400, "namespace not found"},
		{"not wasm", "POST", "/system/artifacts?tag=t/bad", "this is not wasm", 400, "invalid_module"},
		{"empty module", "POST", "/system/artifacts?tag=t/bad", "", 400, "empty body"},
		{"bad abi", "POST", "/system/artifacts?tag=t/bad&abi=cgi", "x", 400, "invalid_abi"},
		{"bad tag", "POST", "/system/artifacts?tag=UPPER/Case", "x", 400, "invalid_reference"},
		{"method", "TRACE", "/function/echo", nil, 405, ""},
		{"logs without name", "GET", "/system/logs", nil, 422, "name"},
		{"logs bad since", "GET", "/system/logs?name=echo&since=yesterday", nil, 422, "since"},
		{"scale unknown", "POST", "/system/scale-function/nope", map[string]any{"serviceName": "nope", "replicas": 1}, 404, "not found"},
		{"get unknown", "GET", "/system/function/nope", nil, 404, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any = c.body
			if s, ok := c.body.(string); ok && s == "" {
				body = []byte{}
			}
			r := n.do(c.method, c.path, body)
			if r.Status != c.status || !strings.Contains(string(r.Body), c.msg) {
				t.Fatalf("%d %q, want %d containing %q", r.Status, r.Body, c.status, c.msg)
			}
		})
	}
	// The node still serves after all of that.
	n.deploy(map[string]any{"service": "echo", "image": "t/echo"})
	n.must(200, "POST", "/function/echo", "ok")
}

// TestLogs: stderr lines reach /system/logs; tail and follow behave as
// faas-cli expects.
func TestLogs(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("stderr", "t/stderr", "openfaas")
	n.deploy(map[string]any{"service": "talker", "image": "t/stderr"})
	if r := n.must(200, "POST", "/function/talker", nil); !strings.Contains(string(r.Body), "ok") {
		t.Fatalf("talker: %q", r.Body)
	}
	var msgs []client.LogMessage
	eventually(t, 5*time.Second, "three log lines", func() bool {
		msgs = decodeLogs(t, n.must(200, "GET", "/system/logs?follow=false&name=talker&tail=-1", nil).Body)
		return len(msgs) >= 3
	})
	if msgs[0].Text != "line 1" || msgs[2].Text != "line 3" || msgs[0].Name != "talker" || msgs[0].Namespace != "openfaas-fn" || msgs[0].Instance == "" {
		t.Fatalf("logs: %+v", msgs)
	}
	r := n.must(200, "GET", "/system/logs?follow=false&name=talker&tail=1", nil)
	if got := decodeLogs(t, r.Body); len(got) != 1 || got[0].Text != "line 3" {
		t.Fatalf("tail=1: %+v", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got := decodeLogs(t, n.must(200, "GET", "/system/logs?follow=false&name=talker&since="+future, nil).Body); len(got) != 0 {
		t.Fatalf("since in the future returned %d lines", len(got))
	}

	// follow=true streams new lines until the client leaves.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n.url+"/system/logs?follow=true&name=talker&tail=1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	if !sc.Scan() || !strings.Contains(sc.Text(), "line 3") {
		t.Fatalf("follow: first line %q", sc.Text())
	}
	n.must(200, "POST", "/function/talker", nil)
	var seen []string
	for len(seen) < 3 && sc.Scan() {
		seen = append(seen, sc.Text())
	}
	if len(seen) < 3 || !strings.Contains(seen[0], "line 1") {
		t.Fatalf("follow did not stream the new lines: %q (err %v)", seen, sc.Err())
	}
	cancel()
}

func decodeLogs(t *testing.T, b []byte) []client.LogMessage {
	t.Helper()
	var out []client.LogMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m client.LogMessage
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("ndjson %q: %v", b, err)
		}
		out = append(out, m)
	}
	return out
}

// TestNamespaces drives the namespace routes with go-sdk's exact bodies.
func TestNamespaces(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.must(201, "POST", "/system/namespace/", map[string]any{"name": "team1", "annotations": map[string]string{"openfaas": "1"}, "labels": map[string]string{"openfaas": "1"}})
	n.must(409, "POST", "/system/namespace/", map[string]any{"name": "team1", "labels": map[string]string{"openfaas": "1"}})
	n.must(400, "POST", "/system/namespace/", map[string]any{"name": "team2"})
	var names []string
	mustJSON(t, n.must(200, "GET", "/system/namespaces", nil).Body, &names)
	if strings.Join(names, ",") != "openfaas-fn,team1" {
		t.Fatalf("namespaces %v", names)
	}
	n.must(202, "PUT", "/system/namespace/team1", map[string]any{"name": "team1", "labels": map[string]string{"openfaas": "1", "x": "y"}})
	var ns client.FunctionNamespace
	mustJSON(t, n.must(200, "GET", "/system/namespace/team1", nil).Body, &ns)
	if ns.Labels["x"] != "y" {
		t.Fatalf("namespace %+v", ns)
	}
	// A function in team1, invoked as name.namespace.
	n.push("echo", "t/echo", "openfaas")
	n.deploy(map[string]any{"service": "echo", "image": "t/echo", "namespace": "team1"})
	if r := n.must(200, "POST", "/function/echo.team1", "t1"); string(r.Body) != "t1" {
		t.Fatalf("echo.team1: %q", r.Body)
	}
	n.must(404, "POST", "/function/echo", "x")
	var fns []client.FunctionStatus
	mustJSON(t, n.must(200, "GET", "/system/functions?namespace=team1", nil).Body, &fns)
	if len(fns) != 1 || fns[0].Namespace != "team1" {
		t.Fatalf("functions in team1: %+v", fns)
	}
	n.must(409, "DELETE", "/system/namespace/team1", map[string]any{"name": "team1", "labels": map[string]string{"openfaas": "1"}})
	n.must(202, "DELETE", "/system/functions?namespace=team1", map[string]string{"functionName": "echo"})
	n.must(202, "DELETE", "/system/namespace/team1", map[string]any{"name": "team1", "labels": map[string]string{"openfaas": "1"}})
	n.must(404, "GET", "/system/namespace/team1", nil)
}

// TestScaleAndInfo: replicas are stored and reported truthfully, 0 frees the
// compiled code and the next request scales back from zero.
func TestScaleAndInfo(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	var info client.GatewayInfo
	mustJSON(t, n.must(200, "GET", "/system/info", nil).Body, &info)
	if info.Provider == nil || info.Provider.Name != "sigil" || info.Provider.Orchestration != "wasm" || info.Version == nil || info.Version.Release == "" || info.Version.SHA == "" {
		t.Fatalf("info %+v", info)
	}
	n.push("echo", "t/echo", "openfaas")
	n.deploy(map[string]any{"service": "echo", "image": "t/echo"})
	status := func() client.FunctionStatus {
		var st client.FunctionStatus
		mustJSON(t, n.must(200, "GET", "/system/function/echo?usage=1", nil).Body, &st)
		return st
	}
	eventually(t, 10*time.Second, "echo available", func() bool { return status().AvailableReplicas == 1 })
	n.must(202, "POST", "/system/scale-function/echo", map[string]any{"serviceName": "echo", "replicas": 3})
	if st := status(); st.Replicas != 3 || st.AvailableReplicas != 3 {
		t.Fatalf("after scale 3: %+v", st)
	}
	n.must(202, "POST", "/system/scale-function/echo", map[string]any{"serviceName": "echo", "replicas": 0})
	eventually(t, 10*time.Second, "scaled to zero", func() bool {
		st := status()
		return st.Replicas == 0 && st.AvailableReplicas == 0
	})
	if r := n.must(200, "POST", "/function/echo", "wake"); string(r.Body) != "wake" {
		t.Fatalf("scale from zero: %q", r.Body)
	}
	eventually(t, 10*time.Second, "scaled back from zero", func() bool {
		st := status()
		return st.Replicas == 1 && st.AvailableReplicas == 1
	})
	metrics := string(n.must(200, "GET", "/metrics", nil).Body)
	for _, want := range []string{
		`gateway_function_invocation_total{code="200",function_name="echo.openfaas-fn"} 1`,
		`gateway_functions_seconds_count{code="200",function_name="echo.openfaas-fn"} 1`,
		`gateway_function_invocation_started{function_name="echo.openfaas-fn"} 1`,
		`gateway_service_count{function_name="echo.openfaas-fn"} 1`,
		`sigil_cold_starts_total 1`,
		`sigil_compile_seconds_count`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
