package abi

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestParseKind(t *testing.T) {
	tests := []struct {
		in      string
		want    Kind
		wantErr bool
	}{
		{in: "", want: OpenFaaS},
		{in: "openfaas", want: OpenFaaS},
		{in: "OpenFaaS", want: OpenFaaS},
		{in: " wagi ", want: WAGI},
		{in: "WAGI", want: WAGI},
		{in: "cgi", wantErr: true},
		{in: "spin", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseKind(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), `"openfaas"`) || !strings.Contains(err.Error(), `"wagi"`) {
				t.Errorf("ParseKind(%q) error = %v, want one naming the valid values", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestComposeOpenFaaS(t *testing.T) {
	withCT := &Function{Name: "f", EnvVars: map[string]string{"content_type": "application/json"}}
	plain := &Function{Name: "f"}
	reqCT := &Request{Header: http.Header{"Content-Type": {"text/csv"}}}
	reqNone := &Request{Header: http.Header{}}
	tests := []struct {
		name     string
		fn       *Function
		req      *Request
		res      Result
		status   int
		ct, body string
		wantErr  bool
	}{
		{name: "function content_type wins", fn: withCT, req: reqCT, res: Result{Stdout: []byte("{}")}, status: 200, ct: "application/json", body: "{}"},
		{name: "request content type", fn: plain, req: reqCT, res: Result{Stdout: []byte("a,b")}, status: 200, ct: "text/csv", body: "a,b"},
		{name: "default text/plain", fn: plain, req: reqNone, res: Result{Stdout: []byte("hi")}, status: 200, ct: "text/plain", body: "hi"},
		{name: "empty stdout is fine", fn: plain, req: reqNone, res: Result{}, status: 200, ct: "text/plain", body: ""},
		{name: "non-zero exit hides stdout", fn: withCT, req: reqCT, res: Result{ExitCode: 2, Stdout: []byte("secret partial")}, status: 500, ct: "text/plain; charset=utf-8", body: "exit code 2\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compose(OpenFaaS, tt.req, tt.fn, tt.res)
			if got.Status != tt.status || got.Header.Get("Content-Type") != tt.ct || string(got.Body) != tt.body {
				t.Errorf("got %d %q %q; want %d %q %q", got.Status, got.Header.Get("Content-Type"), got.Body, tt.status, tt.ct, tt.body)
			}
			if (got.Err != nil) != tt.wantErr {
				t.Errorf("Err = %v, wantErr %v", got.Err, tt.wantErr)
			}
		})
	}
}

func TestParseCGIErrors(t *testing.T) {
	tests := []struct {
		out  string
		want error
	}{
		{"", ErrEmptyOutput},
		{"Content-Type: text/plain\n", ErrInsufficientHeaders},
		{"X-A: b\n\n", ErrInsufficientHeaders},
		{"Content-Type: \xff\n\n", ErrHeaderNotUTF8},
		{"Content-Type: a\x01b\n\n", ErrInvalidHeaderValue},
		{"Status: 20\n\n", ErrInvalidStatus},
		{"Status: 2000\n\n", ErrInvalidStatus},
		{"Status: 099\n\n", ErrInvalidStatus},
		{"Status:\n\n", ErrInvalidStatus},
		{"Status: 200\tOK\n\n", ErrInvalidStatus},
		{"Status: 999\n\n", nil},
		{"status: 201 Created\n\n", nil},
	}
	for _, tt := range tests {
		_, err := ParseCGI([]byte(tt.out))
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseCGI(%q) error = %v, want %v", tt.out, err, tt.want)
		}
	}
}

func TestServerHostPort(t *testing.T) {
	tests := []struct {
		host       string
		tls        bool
		name, port string
	}{
		{"", false, "localhost", "80"},
		{"", true, "localhost", "443"},
		{"example.com", false, "example.com", "80"},
		{"example.com", true, "example.com", "443"},
		{"example.com:8080", false, "example.com", "8080"},
		{":9000", false, "localhost", "9000"},
		{"example.com:", false, "example.com", "80"},
		{"[::1]:8443", true, "[::1]", "8443"},
		{"[::1]", false, "[::1]", "80"},
		{"caf\xc3\xa9.example", false, "localhost", "80"},
	}
	for _, tt := range tests {
		name, port := serverHostPort(tt.host, tt.tls)
		if name != tt.name || port != tt.port {
			t.Errorf("serverHostPort(%q, %v) = %q, %q; want %q, %q", tt.host, tt.tls, name, port, tt.name, tt.port)
		}
	}
}

func TestClientIP(t *testing.T) {
	tests := map[string]string{
		"203.0.113.7:54321":  "203.0.113.7",
		"[2001:db8::1]:5555": "2001:db8::1",
		"2001:db8::1":        "2001:db8::1",
		"203.0.113.7":        "203.0.113.7",
		"@":                  "@",
		"":                   "",
		"[fe80::1%eth0]:80":  "fe80::1%eth0",
	}
	for in, want := range tests {
		if got := clientIP(in); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapedPath(t *testing.T) {
	tests := []struct {
		path, raw, want string
	}{
		{"/a/b", "", "/a/b"},
		{"/a b", "", "/a%20b"},
		{"/a$&+,:;=@-_.~b", "", "/a$&+,:;=@-_.~b"},
		{"/a/b", "/a%2Fb", "/a%2Fb"},
		{"/caf\u00e9", "", "/caf%C3%A9"},
	}
	for _, tt := range tests {
		if got := escapedPath(&Request{Path: tt.path, RawPath: tt.raw}); got != tt.want {
			t.Errorf("escapedPath(%q, %q) = %q, want %q", tt.path, tt.raw, got, tt.want)
		}
	}
}

func TestPrepareArgs(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		req  *Request
		fn   *Function
		want []string
	}{
		{"openfaas name", OpenFaaS, &Request{Path: "/"}, &Function{Name: "hello"}, []string{"hello"}},
		{"openfaas fprocess", OpenFaaS, &Request{Path: "/"}, &Function{Name: "hello", EnvProcess: " wc  -l "}, []string{"wc", "-l"}},
		{"openfaas blank fprocess", OpenFaaS, &Request{Path: "/"}, &Function{Name: "hello", EnvProcess: "   "}, []string{"hello"}},
		{"wagi no query", WAGI, &Request{Path: "/x", ScriptName: "/function/f"}, &Function{}, []string{"/function/f/x"}},
		{"wagi query items raw", WAGI, &Request{Path: "/", ScriptName: "/function/f", RawQuery: "a=1&b=%20&&c"}, &Function{}, []string{"/function/f/", "a=1", "b=%20", "", "c"}},
		{"wagi slash not doubled", WAGI, &Request{Path: "/x", ScriptName: "/function/f/"}, &Function{}, []string{"/function/f/x"}},
		{"wagi escaped", WAGI, &Request{Path: "/a b", ScriptName: "/function/f"}, &Function{}, []string{"/function/f/a%20b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := Prepare(tt.kind, tt.req, tt.fn)
			checkInvariants(t, inv)
			if !slices.Equal(inv.Args, tt.want) {
				t.Errorf("Args = %q, want %q", inv.Args, tt.want)
			}
		})
	}
}

// TestPrepareNilHeader pins that a request without headers (a queue replay,
// a test) works.
func TestPrepareNilHeader(t *testing.T) {
	for _, k := range Kinds {
		inv := Prepare(k, &Request{Method: "GET", Path: "/"}, &Function{Name: "f"})
		checkInvariants(t, inv)
	}
}
