package cli

import (
	"net/http"
	"strings"
	"testing"
)

func TestInvoke(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		answer     http.HandlerFunc
		route      string
		wantWire   string
		wantCT     string
		wantHeader [2]string
		wantOut    string
		wantErr    string
		wantCode   int
	}{
		{
			name: "stdin to body, body to stdout", args: []string{"invoke", "env-fn"}, stdin: "hello\n",
			route: "POST /function/env-fn", answer: reply(200, "text/plain", "HELLO\n"),
			wantWire: "POST /function/env-fn hello\n\n", wantCT: "text/plain", wantOut: "HELLO\n",
		},
		{
			name: "method, query, header, content type, namespace",
			args: []string{"invoke", "env-fn", "-n", "openfaas-fn", "--query", "q=1", "-H", "X-Test=1",
				"-m", "put", "--content-type", "application/json", "--path", "/a/b"},
			stdin: "hello", route: "PUT /function/env-fn.openfaas-fn/a/b", answer: reply(200, "", "ok"),
			wantWire: "PUT /function/env-fn.openfaas-fn/a/b?q=1 hello\n", wantCT: "application/json",
			wantHeader: [2]string{"X-Test", "1"}, wantOut: "ok",
		},
		{
			name: "curl-style header", args: []string{"invoke", "f", "-H", "X-Callback-Url: http://127.0.0.1:9/cb"},
			route: "POST /function/f", answer: reply(200, "", ""),
			wantWire: "POST /function/f\n", wantCT: "text/plain", wantHeader: [2]string{"X-Callback-Url", "http://127.0.0.1:9/cb"},
		},
		{
			name: "non-2xx prints the body and fails", args: []string{"invoke", "f"}, stdin: "x",
			route: "POST /function/f", answer: reply(500, "text/plain", "boom\n"),
			wantWire: "POST /function/f x\n", wantCT: "text/plain", wantOut: "boom\n",
			wantErr: "sigil: function answered 500\n", wantCode: 1,
		},
		{
			name: "redirect is shown, not followed", args: []string{"invoke", "f", "-m", "GET"},
			route: "GET /function/f", answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			wantWire: "GET /function/f\n", wantCT: "text/plain",
			wantOut: "<a href=\"/elsewhere\">Found</a>.\n\n", wantErr: "sigil: function answered 302\n", wantCode: 1,
		},
		{
			name: "async prints the call id", args: []string{"invoke", "env-fn", "--async", "-n", "openfaas-fn"}, stdin: "hello",
			route: "POST /async-function/env-fn.openfaas-fn", answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Call-Id", "call-123")
				w.WriteHeader(http.StatusAccepted)
			},
			wantWire: "POST /async-function/env-fn.openfaas-fn hello\n", wantCT: "text/plain",
			wantOut: "call-123\n", wantErr: "Function queued (202 Accepted).\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			isolate(t, f.srv.URL)
			f.on(tt.route, tt.answer)
			r := run(t, tt.stdin, tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut || r.stderr != tt.wantErr {
				t.Errorf("got code %d stdout %q stderr %q\nwant code %d stdout %q stderr %q",
					r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
			}
			if got := f.wire(); got != tt.wantWire {
				t.Errorf("wire %q, want %q", got, tt.wantWire)
			}
			h := f.requests()[0].Header
			if h.Get("Content-Type") != tt.wantCT {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tt.wantCT)
			}
			if tt.wantHeader[0] != "" && h.Get(tt.wantHeader[0]) != tt.wantHeader[1] {
				t.Errorf("%s = %q, want %q", tt.wantHeader[0], h.Get(tt.wantHeader[0]), tt.wantHeader[1])
			}
			if h.Get("Authorization") != "" {
				t.Errorf("invoke sent credentials")
			}
		})
	}
}

func TestInvokeBadHeader(t *testing.T) {
	isolate(t, "http://127.0.0.1:1")
	r := run(t, "", "invoke", "f", "-H", "novalue")
	if r.code != 1 || !strings.HasPrefix(r.stderr, `sigil: --header "novalue": want Key=value`+"\n") {
		t.Fatalf("%+v", r)
	}
}
