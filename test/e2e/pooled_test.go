package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

func (n *node) status(name string) client.FunctionStatus {
	n.t.Helper()
	var st client.FunctionStatus
	if err := json.Unmarshal(n.must(200, "GET", "/system/function/"+name, nil).Body, &st); err != nil {
		n.t.Fatal(err)
	}
	return st
}

// TestPooled: a Go SDK guest in pooled mode is prewarmed at deploy, answers
// with the handler's status and headers, streams, reports its warm
// instances as availableReplicas, and follows scale.
func TestPooled(t *testing.T) {
	n := startNode(t, "", "--no-auth", "--no-autoscale")
	n.push("hello", "t/hello", "pooled")
	n.deploy(map[string]any{"service": "hp", "image": "t/hello"})
	eventually(t, 30*time.Second, "a warm instance", func() bool { return n.status("hp").AvailableReplicas == 1 })
	r := n.must(200, "POST", "/function/hp", "Sigil")
	if !strings.Contains(string(r.Body), "Hello, Sigil!") || r.Header.Get("X-Call-Id") == "" {
		t.Fatalf("pooled hello: %q %v", r.Body, r.Header)
	}
	if st := n.status("hp"); st.ABI != "pooled" {
		t.Fatalf("status ABI %q", st.ABI)
	}
	n.must(202, "POST", "/system/scale-function/hp", map[string]any{"serviceName": "hp", "replicas": 3})
	eventually(t, 30*time.Second, "three warm instances", func() bool { return n.status("hp").AvailableReplicas == 3 })

	n.push("sdkguest", "t/sdkguest", "pooled")
	n.deploy(map[string]any{"service": "pg", "image": "t/sdkguest", "envVars": map[string]string{"greeting": "hi"}})
	eventually(t, 30*time.Second, "pg warm", func() bool { return n.status("pg").AvailableReplicas == 1 })
	r = n.must(http.StatusAccepted, "POST", "/function/pg/echo?x=1", "body", "X-In", "in")
	if string(r.Body) != "body" || r.Header.Get("X-Query") != "x=1" || r.Header.Get("X-In") != "in" {
		t.Fatalf("echo: %q %v", r.Body, r.Header)
	}
	if r := n.must(200, "GET", "/function/pg/env?k=greeting", nil); string(r.Body) != "hi" {
		t.Fatalf("env: %q", r.Body)
	}
	r = n.must(200, "GET", "/function/pg/stream?n=50", nil)
	if strings.Count(string(r.Body), "chunk ") != 50 || !strings.HasSuffix(string(r.Body), "chunk 49\n") {
		t.Fatalf("stream: %q", r.Body)
	}
}

// TestPooledHostile: an endless loop, a memory bomb and a trap in pooled
// mode each get a clear status, their instance is replaced, and requests to
// the same function keep being served meanwhile.
func TestPooledHostile(t *testing.T) {
	n := startNode(t, "", "--no-auth", "--no-autoscale")
	n.push("sdkguest", "t/sdkguest", "pooled")
	n.deploy(map[string]any{"service": "pg", "image": "t/sdkguest",
		"envVars": map[string]string{"exec_timeout": "2s"}, "limits": map[string]string{"memory": "64Mi"},
		"labels": map[string]string{"com.openfaas.scale.min": "2"}})
	eventually(t, 30*time.Second, "two warm instances", func() bool { return n.status("pg").AvailableReplicas == 2 })

	stop := n.keepCalling("/function/pg/echo", http.StatusAccepted)
	cases := []struct {
		path   string
		status int
		msg    string
	}{
		{"/loop", http.StatusGatewayTimeout, "timed out"},
		{"/bomb", http.StatusInternalServerError, "memory"},
		{"/trap", http.StatusInternalServerError, "trapped"},
	}
	for _, c := range cases {
		r := n.do("POST", "/function/pg"+c.path, "x")
		if r.Status != c.status || !strings.Contains(string(r.Body), c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.path, r.Status, r.Body, c.status, c.msg)
		}
		eventually(t, 30*time.Second, "instances replaced after "+c.path, func() bool { return n.status("pg").AvailableReplicas == 2 })
	}
	ok, bad, first := stop()
	if ok == 0 {
		t.Fatal("no echo was served while hostile requests ran")
	}
	t.Logf("echo while hostile: %d ok, %d failed (first: %v)", ok, bad, first)
	if r := n.must(http.StatusAccepted, "POST", "/function/pg/echo", "after"); string(r.Body) != "after" {
		t.Fatalf("after: %q", r.Body)
	}
}

// TestPooledMaxInflight: with max_inflight the queue is bounded and the
// overflow gets 429 with Retry-After.
func TestPooledMaxInflight(t *testing.T) {
	n := startNode(t, "", "--no-auth", "--no-autoscale")
	n.push("sdkguest", "t/sdkguest", "pooled")
	n.deploy(map[string]any{"service": "pg", "image": "t/sdkguest", "envVars": map[string]string{"max_inflight": "1"}})
	eventually(t, 30*time.Second, "warm", func() bool { return n.status("pg").AvailableReplicas == 1 })
	var wg sync.WaitGroup
	codes := make(chan resp, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- n.do("GET", "/function/pg/sleep?d=500ms", nil)
		}()
	}
	wg.Wait()
	close(codes)
	var got429, got200 int
	for r := range codes {
		switch r.Status {
		case http.StatusTooManyRequests:
			got429++
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		case http.StatusOK:
			got200++
		default:
			t.Errorf("unexpected %d %q", r.Status, r.Body)
		}
	}
	if got429 == 0 || got200 == 0 {
		t.Fatalf("8 concurrent calls with max_inflight=1: %d ok, %d 429", got200, got429)
	}
}
