package client

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request seen by the fake gateway.
type recorded struct {
	Method, Path, Query, Body string
	Header                    http.Header
}

// fakeGateway records every request and answers with the responder for
// "METHOD PATH", else 200 with an empty body.
type fakeGateway struct {
	mu   sync.Mutex
	reqs []recorded
	resp map[string]func(w http.ResponseWriter, r *http.Request)
	srv  *httptest.Server
}

func newFake(t *testing.T) *fakeGateway {
	t.Helper()
	f := &fakeGateway{resp: map[string]func(http.ResponseWriter, *http.Request){}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Clone()})
		h := f.resp[r.Method+" "+r.URL.Path]
		f.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGateway) on(route string, h func(http.ResponseWriter, *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resp[route] = h
}

func (f *fakeGateway) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func reply(code int, ct, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// wire is what a call must send, as in faas-cli-wire.txt.
type wire struct{ method, path, query, body string }

func checkWire(t *testing.T, got []recorded, want []wire) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d requests %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Method != w.method || g.Path != w.path || g.Query != w.query || g.Body != w.body {
			t.Errorf("request %d:\n got  %s %s?%s %s\n want %s %s?%s %s", i,
				g.Method, g.Path, g.Query, g.Body, w.method, w.path, w.query, w.body)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// envFn is the deployment of faas-cli-wire.txt's first deploy.
var envFn = FunctionDeployment{
	Service:                "env-fn",
	Image:                  "docker.io/functions/alpine:latest",
	EnvProcess:             "env",
	EnvVars:                map[string]string{"custom": "1"},
	Constraints:            []string{"node=1"},
	Secrets:                []string{"s1"},
	Labels:                 ptr(map[string]string{"a": "b"}),
	Annotations:            ptr(map[string]string{"x": "y"}),
	Limits:                 &FunctionResources{Memory: "20Mi", CPU: "100m"},
	ReadOnlyRootFilesystem: true,
}

const envFnBody = `{"service":"env-fn","image":"docker.io/functions/alpine:latest","envProcess":"env","envVars":{"custom":"1"},"constraints":["node=1"],"secrets":["s1"],"labels":{"a":"b"},"annotations":{"x":"y"},"limits":{"memory":"20Mi","cpu":"100m"},"readOnlyRootFilesystem":true}`

func TestWire(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fakeGateway)
		call  func(c *Client) error
		want  []wire
	}{
		{
			name:  "deploy falls back from PUT to POST on 404",
			setup: func(f *fakeGateway) { f.on("PUT /system/functions", reply(404, "text/plain", "not found")) },
			call:  func(c *Client) error { return c.Deploy(ctx, envFn, true) },
			want:  []wire{{"PUT", "/system/functions", "", envFnBody}, {"POST", "/system/functions", "", envFnBody}},
		},
		{
			name: "deploy updates with PUT only",
			call: func(c *Client) error { return c.Deploy(ctx, envFn, true) },
			want: []wire{{"PUT", "/system/functions", "", envFnBody}},
		},
		{
			name: "deploy without update POSTs only",
			call: func(c *Client) error {
				return c.Deploy(ctx, FunctionDeployment{Service: "env-fn", Image: "docker.io/functions/alpine:latest",
					Namespace: "openfaas-fn", EnvProcess: "env", Labels: ptr(map[string]string{}),
					Annotations: ptr(map[string]string{})}, false)
			},
			want: []wire{{"POST", "/system/functions", "", `{"service":"env-fn","image":"docker.io/functions/alpine:latest","namespace":"openfaas-fn","envProcess":"env","labels":{},"annotations":{}}`}},
		},
		{
			name: "list",
			call: func(c *Client) error { _, err := c.ListFunctions(ctx, ""); return err },
			want: []wire{{"GET", "/system/functions", "", ""}},
		},
		{
			name: "list in namespace",
			call: func(c *Client) error { _, err := c.ListFunctions(ctx, "team1"); return err },
			want: []wire{{"GET", "/system/functions", "namespace=team1", ""}},
		},
		{
			name: "describe",
			setup: func(f *fakeGateway) {
				f.on("GET /system/function/env-fn", reply(200, "application/json", `{"name":"env-fn"}`))
			},
			call: func(c *Client) error { _, err := c.GetFunction(ctx, "env-fn", ""); return err },
			want: []wire{{"GET", "/system/function/env-fn", "usage=1", ""}},
		},
		{
			name: "remove",
			call: func(c *Client) error { return c.DeleteFunction(ctx, "env-fn", "") },
			want: []wire{{"DELETE", "/system/functions", "", `{"functionName":"env-fn"}`}},
		},
		{
			name: "remove in namespace",
			call: func(c *Client) error { return c.DeleteFunction(ctx, "env-fn", "openfaas-fn") },
			want: []wire{{"DELETE", "/system/functions", "", `{"functionName":"env-fn","namespace":"openfaas-fn"}`}},
		},
		{
			name: "scale",
			call: func(c *Client) error { return c.ScaleFunction(ctx, "env-fn", "team1", 3) },
			want: []wire{{"POST", "/system/scale-function/env-fn", "namespace=team1", `{"serviceName":"env-fn","replicas":3,"namespace":"team1"}`}},
		},
		{
			name: "secret create",
			call: func(c *Client) error { return c.CreateSecret(ctx, Secret{Name: "s1", Value: "hunter2"}) },
			want: []wire{{"POST", "/system/secrets", "", `{"name":"s1","value":"hunter2"}`}},
		},
		{
			name: "secret update",
			call: func(c *Client) error { return c.UpdateSecret(ctx, Secret{Name: "s1", Value: "hunter3"}) },
			want: []wire{{"PUT", "/system/secrets", "", `{"name":"s1","value":"hunter3"}`}},
		},
		{
			name: "secret remove",
			call: func(c *Client) error { return c.DeleteSecret(ctx, "s1", "") },
			want: []wire{{"DELETE", "/system/secrets", "", `{"name":"s1"}`}},
		},
		{
			name: "secret list",
			call: func(c *Client) error { _, err := c.ListSecrets(ctx, ""); return err },
			want: []wire{{"GET", "/system/secrets", "", ""}},
		},
		{
			name: "namespace list",
			setup: func(f *fakeGateway) {
				f.on("GET /system/namespaces", reply(200, "application/json", `["openfaas-fn"]`))
			},
			call: func(c *Client) error { _, err := c.ListNamespaces(ctx); return err },
			want: []wire{{"GET", "/system/namespaces", "", ""}},
		},
		{
			name: "namespace create injects openfaas=1",
			call: func(c *Client) error {
				return c.CreateNamespace(ctx, FunctionNamespace{Name: "team1", Labels: map[string]string{"openfaas": "1"}})
			},
			want: []wire{{"POST", "/system/namespace/", "", `{"name":"team1","annotations":{"openfaas":"1"},"labels":{"openfaas":"1"}}`}},
		},
		{
			name: "namespace get",
			setup: func(f *fakeGateway) {
				f.on("GET /system/namespace/team1", reply(200, "application/json", `{"name":"team1"}`))
			},
			call: func(c *Client) error { _, err := c.GetNamespace(ctx, "team1"); return err },
			want: []wire{{"GET", "/system/namespace/team1", "", ""}},
		},
		{
			name: "namespace update",
			call: func(c *Client) error {
				return c.UpdateNamespace(ctx, FunctionNamespace{Name: "team1", Labels: map[string]string{"openfaas": "1", "x": "y"}})
			},
			want: []wire{{"PUT", "/system/namespace/team1", "", `{"name":"team1","annotations":{"openfaas":"1"},"labels":{"openfaas":"1","x":"y"}}`}},
		},
		{
			name: "namespace remove",
			call: func(c *Client) error { return c.DeleteNamespace(ctx, "team1") },
			want: []wire{{"DELETE", "/system/namespace/team1", "", `{"name":"team1","labels":{"openfaas":"1"}}`}},
		},
		{
			name:  "info",
			setup: func(f *fakeGateway) { f.on("GET /system/info", reply(200, "application/json", `{"arch":"amd64"}`)) },
			call:  func(c *Client) error { _, err := c.Info(ctx); return err },
			want:  []wire{{"GET", "/system/info", "", ""}},
		},
		{
			name: "health",
			call: func(c *Client) error { return c.Health(ctx) },
			want: []wire{{"GET", "/healthz", "", ""}},
		},
		{
			name: "logs like faas-cli --tail=false",
			call: func(c *Client) error {
				return c.Logs(ctx, LogsRequest{Name: "env-fn", Tail: -1}, func(LogMessage) error { return nil })
			},
			want: []wire{{"GET", "/system/logs", "follow=false&name=env-fn&tail=-1", ""}},
		},
		{
			name: "logs with lines and since",
			call: func(c *Client) error {
				since := time.Date(2026, 11, 22, 7, 54, 34, 500, time.UTC)
				return c.Logs(ctx, LogsRequest{Name: "env-fn", Tail: 5, Since: since, Follow: true, Namespace: "ns1"},
					func(LogMessage) error { return nil })
			},
			want: []wire{{"GET", "/system/logs", "follow=true&name=env-fn&namespace=ns1&since=2026-11-22T07%3A54%3A34Z&tail=5", ""}},
		},
		{
			name: "push",
			setup: func(f *fakeGateway) {
				f.on("POST /system/artifacts", reply(201, "application/json", `{"digest":"sha256:ab","size":4,"abi":"wagi","tags":["a:1","b:2"]}`))
			},
			call: func(c *Client) error {
				_, err := c.PushArtifact(ctx, []byte("\x00asm"), []string{"a:1", "b:2"}, "wagi")
				return err
			},
			want: []wire{{"POST", "/system/artifacts", "abi=wagi&tag=a%3A1&tag=b%3A2", "\x00asm"}},
		},
		{
			name:  "artifacts",
			setup: func(f *fakeGateway) { f.on("GET /system/artifacts", reply(200, "application/json", `[]`)) },
			call:  func(c *Client) error { _, err := c.ListArtifacts(ctx); return err },
			want:  []wire{{"GET", "/system/artifacts", "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET /system/functions", reply(200, "application/json", `[]`))
			f.on("GET /system/secrets", reply(200, "application/json", `[]`))
			if tt.setup != nil {
				tt.setup(f)
			}
			if err := tt.call(New(f.srv.URL + "/")); err != nil {
				t.Fatalf("call: %v", err)
			}
			checkWire(t, f.requests(), tt.want)
		})
	}
}

func TestDeployFunctionReportsMethodAndStatus(t *testing.T) {
	f := newFake(t)
	f.on("PUT /system/functions", reply(404, "", ""))
	f.on("POST /system/functions", reply(202, "", ""))
	res, err := New(f.srv.URL).DeployFunction(context.Background(), envFn, true)
	if err != nil {
		t.Fatal(err)
	}
	if res != (DeployResult{Method: "POST", StatusCode: 202, Status: "202 Accepted", LogIndex: -1}) {
		t.Fatalf("got %+v", res)
	}
}

func TestDeployDoesNotFallBackOnOtherErrors(t *testing.T) {
	f := newFake(t)
	f.on("PUT /system/functions", reply(400, "text/plain", "image not found: push it with 'sigil push'\n"))
	err := New(f.srv.URL).Deploy(context.Background(), envFn, true)
	if got, want := err.Error(), "deploy: 400 Bad Request: image not found: push it with 'sigil push'"; got != want {
		t.Fatalf("error %q, want %q", got, want)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestErrorParsing(t *testing.T) {
	tests := []struct {
		name, ct, body string
		status         int
		want           Error
		wantText       string
	}{
		{"json", "application/json", `{"error":"function \"f\" not found","code":"function_not_found"}`, 404,
			Error{Op: "get function", StatusCode: 404, Code: "function_not_found", Message: `function "f" not found`},
			`get function: 404 Not Found: function "f" not found`},
		{"json with charset", "application/json; charset=utf-8", `{"error":"bad","code":"bad_request"}`, 400,
			Error{Op: "get function", StatusCode: 400, Code: "bad_request", Message: "bad"}, "get function: 400 Bad Request: bad"},
		{"text", "text/plain; charset=utf-8", "  invalid credentials\n", 401,
			Error{Op: "get function", StatusCode: 401, Message: "invalid credentials"}, "get function: 401 Unauthorized: invalid credentials"},
		{"empty", "", "", 404, Error{Op: "get function", StatusCode: 404}, "get function: 404 Not Found"},
		{"json label but not json", "application/json", "oops", 500,
			Error{Op: "get function", StatusCode: 500, Message: "oops"}, "get function: 500 Internal Server Error: oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GET /system/function/f", reply(tt.status, tt.ct, tt.body))
			_, err := New(f.srv.URL).GetFunction(context.Background(), "f", "")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
			if *e != tt.want {
				t.Errorf("got %+v, want %+v", *e, tt.want)
			}
			if err.Error() != tt.wantText {
				t.Errorf("text %q, want %q", err.Error(), tt.wantText)
			}
			if StatusCode(err) != tt.status {
				t.Errorf("StatusCode = %d", StatusCode(err))
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/functions", reply(200, "application/json", `[]`))
	c := New(f.srv.URL, WithBasicAuth("admin", "s3cret"))
	if _, err := c.ListFunctions(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Invoke(context.Background(), InvokeRequest{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := f.requests()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	if got := reqs[0].Header.Get("Authorization"); got != want {
		t.Errorf("system call Authorization = %q, want %q", got, want)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "" {
		t.Errorf("invoke sent Authorization %q; functions are public", got)
	}
}

func TestNoAuthWithoutCredentials(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/functions", reply(200, "application/json", `[]`))
	if _, err := New(f.srv.URL).ListFunctions(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if h := f.requests()[0].Header; h.Get("Authorization") != "" {
		t.Fatalf("Authorization %q sent without credentials", h.Get("Authorization"))
	}
}

func TestInvoke(t *testing.T) {
	tests := []struct {
		name string
		req  InvokeRequest
		want wire
		ct   string
	}{
		{"default POST", InvokeRequest{Name: "env-fn", Body: strings.NewReader("hello\n")},
			wire{"POST", "/function/env-fn", "", "hello\n"}, ""},
		{"namespace, method, query, header", InvokeRequest{Name: "env-fn", Namespace: "openfaas-fn", Method: "PUT",
			Query: url.Values{"q": {"1"}}, Header: http.Header{"Content-Type": {"application/json"}}, Body: strings.NewReader("hello")},
			wire{"PUT", "/function/env-fn.openfaas-fn", "q=1", "hello"}, "application/json"},
		{"path without slash", InvokeRequest{Name: "f", Method: "GET", Path: "a/b c"},
			wire{"GET", "/function/f/a/b%20c", "", ""}, ""},
		{"async always POSTs", InvokeRequest{Name: "env-fn", Namespace: "openfaas-fn", Method: "GET", Async: true, Path: "/x"},
			wire{"POST", "/async-function/env-fn.openfaas-fn/x", "", ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			resp, err := New(f.srv.URL).Invoke(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := f.requests()
			checkWire(t, got, []wire{tt.want})
			if tt.ct != "" && got[0].Header.Get("Content-Type") != tt.ct {
				t.Errorf("Content-Type %q, want %q", got[0].Header.Get("Content-Type"), tt.ct)
			}
		})
	}
}

func TestInvokeDoesNotFollowRedirects(t *testing.T) {
	f := newFake(t)
	f.on("POST /function/f", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/function/other", http.StatusFound)
	})
	resp, err := New(f.srv.URL).Invoke(context.Background(), InvokeRequest{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/function/other" {
		t.Fatalf("got %d Location %q, want 302 /function/other", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, redirect was followed", n)
	}
}

func TestInvokeReturnsErrorStatusesRaw(t *testing.T) {
	f := newFake(t)
	f.on("POST /function/f", reply(500, "text/plain", "boom"))
	resp, err := New(f.srv.URL).Invoke(context.Background(), InvokeRequest{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || string(b) != "boom" {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
}

func TestLogsStream(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/logs", reply(200, "application/x-ndjson",
		`{"name":"f","namespace":"openfaas-fn","instance":"i1","timestamp":"2026-11-22T07:54:34Z","text":"one"}`+"\n\n"+
			`{"name":"f","namespace":"openfaas-fn","instance":"i2","timestamp":"2026-11-22T07:54:35Z","text":"two"}`))
	var got []string
	err := New(f.srv.URL).Logs(context.Background(), LogsRequest{Name: "f"}, func(m LogMessage) error {
		got = append(got, m.Instance+":"+m.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "i1:one,i2:two" {
		t.Fatalf("got %v", got)
	}

	stop := errors.New("stop")
	err = New(f.srv.URL).Logs(context.Background(), LogsRequest{Name: "f"}, func(LogMessage) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestLogsBadLine(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/logs", reply(200, "application/x-ndjson", "not json\n"))
	err := New(f.srv.URL).Logs(context.Background(), LogsRequest{Name: "f"}, func(LogMessage) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "decode line") {
		t.Fatalf("got %v", err)
	}
}

func TestPushDecodesArtifact(t *testing.T) {
	f := newFake(t)
	f.on("POST /system/artifacts", reply(200, "application/json", `{"digest":"sha256:ab","size":4,"abi":"openfaas","tags":["a:1"]}`))
	a, err := New(f.srv.URL).PushArtifact(context.Background(), []byte("\x00asm"), []string{"a:1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != "sha256:ab" || a.Size != 4 || a.ABI != "openfaas" || len(a.Tags) != 1 {
		t.Fatalf("got %+v", a)
	}
	r := f.requests()[0]
	if r.Query != "tag=a%3A1" || r.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("query %q content type %q", r.Query, r.Header.Get("Content-Type"))
	}
}

func TestGatewayTrimmed(t *testing.T) {
	c := New("http://127.0.0.1:8080///")
	if c.Gateway() != "http://127.0.0.1:8080" {
		t.Fatalf("Gateway() = %q", c.Gateway())
	}
	if got := c.FunctionURL("f", "ns"); got != "http://127.0.0.1:8080/function/f.ns" {
		t.Fatalf("FunctionURL = %q", got)
	}
}
