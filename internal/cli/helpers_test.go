package cli

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// recorded is one request seen by the fake gateway.
type recorded struct {
	Method, Path, Query, Body string
	Header                    http.Header
}

func (r recorded) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	if r.Body != "" {
		s += " " + r.Body
	}
	return s
}

// fakeGateway records requests and answers with the responder registered
// for "METHOD PATH", else 200 with an empty body.
type fakeGateway struct {
	mu   sync.Mutex
	reqs []recorded
	resp map[string]http.HandlerFunc
	auth string // "user:password" required on /system/* when set
	srv  *httptest.Server
}

func newFake(t *testing.T) *fakeGateway {
	t.Helper()
	f := &fakeGateway{resp: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Clone()})
		h, auth := f.resp[r.Method+" "+r.URL.Path], f.auth
		f.mu.Unlock()
		if u, p, _ := r.BasicAuth(); auth != "" && strings.HasPrefix(r.URL.Path, "/system/") && u+":"+p != auth {
			w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// requireAuth protects /system/* with basic auth, like the OpenFaaS gateway.
func (f *fakeGateway) requireAuth(user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = user + ":" + password
}

func (f *fakeGateway) on(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resp[route] = h
}

func (f *fakeGateway) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// wire renders the recorded requests one per line.
func (f *fakeGateway) wire() string {
	var b strings.Builder
	for _, r := range f.requests() {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func reply(code int, ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// isolate gives the test its own config file and a gateway environment
// pointing at gw (or unset when gw is empty).
func isolate(t *testing.T, gw string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "conf", "config.yml")
	t.Setenv("SIGIL_CONFIG", cfg)
	t.Setenv("SIGIL_URL", gw)
	t.Setenv("OPENFAAS_URL", "")
	return cfg
}

// result of one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// run executes the sigil command tree with args and stdin.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	root := NewRootCommand()
	var out, errb bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := Run(root)
	return result{out.String(), errb.String(), code}
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("sigil %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// golden compares got with testdata/<name>, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
