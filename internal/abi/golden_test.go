package abi

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares got with testdata file path, or rewrites it with
// -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch (run with -update to accept)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// requestFromHTTP converts r the way the gateway does: ScriptName is
// /function/{segment}, Path and RawPath the remainder.
func requestFromHTTP(t *testing.T, r *http.Request, remote string, tls bool) *Request {
	t.Helper()
	rest, ok := strings.CutPrefix(r.URL.Path, "/function/")
	if !ok {
		t.Fatalf("path %q is not under /function/", r.URL.Path)
	}
	seg, _, _ := strings.Cut(rest, "/")
	script := "/function/" + seg
	path := strings.TrimPrefix(r.URL.Path, script)
	if path == "" {
		path = "/"
	}
	var rawPath string
	if r.URL.RawPath != "" {
		rawPath = strings.TrimPrefix(r.URL.EscapedPath(), script)
	}
	return &Request{
		Method:        r.Method,
		Proto:         r.Proto,
		Host:          r.Host,
		Path:          path,
		RawPath:       rawPath,
		RawQuery:      r.URL.RawQuery,
		Header:        r.Header,
		ContentLength: r.ContentLength,
		RemoteAddr:    remote,
		TLS:           tls,
		ScriptName:    script,
	}
}

// fixtureFn carries deployment variables that collide with request
// variables of both ABIs, to pin that the request wins.
var fixtureFn = &Function{
	Name:      "hello",
	Namespace: "openfaas-fn",
	EnvVars: map[string]string{
		"GREETING":        "hi there",
		"Http_Method":     "SPOOF",
		"Http_X_Tag":      "deploy",
		"Http_Kept":       "deploy keeps it",
		"REQUEST_METHOD":  "SPOOF",
		"HTTP_USER_AGENT": "deploy",
		"HTTP_KEPT":       "deploy keeps it",
		"fprocess":        "kept when EnvProcess is empty",
		"bad=key":         "dropped",
		"":                "dropped",
		"NUL_VALUE":       "a\x00b",
	},
}

var fprocessFn = &Function{
	Name:       "secret-reader",
	Namespace:  "openfaas-fn",
	EnvProcess: "cat  /var/openfaas/secrets/api-key",
	EnvVars:    map[string]string{"fprocess": "overridden", "content_type": "text/plain"},
}

func renderInvocation(w *bytes.Buffer, k Kind, inv Invocation) {
	fmt.Fprintf(w, "== %s\nargv:\n", k)
	for _, a := range inv.Args {
		fmt.Fprintf(w, "  %s\n", strconv.Quote(a))
	}
	w.WriteString("env:\n")
	for _, e := range inv.Env {
		fmt.Fprintf(w, "  %s\n", strconv.Quote(e))
	}
}

func TestPrepareGolden(t *testing.T) {
	tests := []struct {
		name   string
		fn     *Function
		remote string
		tls    bool
	}{
		{name: "get_query", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "post_body", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "duplicate_headers", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "authorization", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "escaped_path", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "chunked", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "bare_http10", fn: fixtureFn, remote: "203.0.113.7:54321"},
		{name: "ipv6_tls", fn: fixtureFn, remote: "[2001:db8::1]:5555", tls: true},
		{name: "fprocess", fn: fprocessFn, remote: "10.0.0.1:40000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "prepare", tt.name+".http"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatalf("parse request: %v", err)
			}
			req := requestFromHTTP(t, r, tt.remote, tt.tls)
			var out bytes.Buffer
			for _, k := range Kinds {
				inv := Prepare(k, req, tt.fn)
				checkInvariants(t, inv)
				renderInvocation(&out, k, inv)
			}
			checkGolden(t, filepath.Join("testdata", "prepare", tt.name+".golden"), out.Bytes())
		})
	}
}

// checkInvariants pins what the runtime relies on: every env entry is
// KEY=VALUE with a valid, unique key, and nothing holds a NUL.
func checkInvariants(t testing.TB, inv Invocation) {
	t.Helper()
	if len(inv.Args) == 0 {
		t.Fatal("empty argv")
	}
	for _, a := range inv.Args {
		if strings.IndexByte(a, 0) >= 0 {
			t.Fatalf("argv entry %q holds NUL", a)
		}
	}
	seen := make(map[string]bool, len(inv.Env))
	for _, e := range inv.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
			t.Fatalf("bad env entry %q", e)
		}
		if seen[k] {
			t.Fatalf("env key %q appears twice in %q", k, inv.Env)
		}
		seen[k] = true
	}
}

func renderResponse(resp Response) []byte {
	var w bytes.Buffer
	fmt.Fprintf(&w, "status: %d\n", resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if resp.Header[k] == nil {
			fmt.Fprintf(&w, "header: %s: nil (suppressed)\n", k)
		}
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&w, "header: %s: %s\n", k, strconv.Quote(v))
		}
	}
	if resp.Err != nil {
		fmt.Fprintf(&w, "err: %v\n", resp.Err)
	}
	fmt.Fprintf(&w, "body: %s\n", strconv.Quote(string(resp.Body)))
	return w.Bytes()
}

// cgiExit gives the exit code of the CGI cases that do not exit 0.
var cgiExit = map[string]uint32{"nonzero_exit": 3}

func TestComposeWAGIGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cgi", "*.out"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CGI cases: %v", err)
	}
	req := &Request{Method: "GET", Path: "/", Header: http.Header{}}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".out")
		t.Run(name, func(t *testing.T) {
			stdout, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			resp := Compose(WAGI, req, fixtureFn, Result{ExitCode: cgiExit[name], Stdout: stdout})
			checkResponse(t, stdout, resp)
			checkGolden(t, strings.TrimSuffix(f, ".out")+".golden", renderResponse(resp))
		})
	}
}

// checkResponse pins what the gateway relies on: a status net/http can
// write, a non-nil header, and a body that is either a suffix of stdout or
// one this package wrote.
func checkResponse(t testing.TB, stdout []byte, resp Response) {
	t.Helper()
	if resp.Status < 200 || resp.Status > 999 {
		t.Fatalf("status %d out of range", resp.Status)
	}
	if resp.Header == nil {
		t.Fatal("nil header")
	}
	if !bytes.HasSuffix(stdout, resp.Body) && string(resp.Body) != InsufficientHeadersBody {
		t.Fatalf("body %q is neither a suffix of stdout nor ours", resp.Body)
	}
	if resp.Err == nil && resp.Status == 500 && len(resp.Body) == 0 && len(stdout) == 0 {
		t.Fatal("empty stdout without an error")
	}
}
