package abi

import (
	"net/http"
	"testing"
)

// benchRequest is a typical faas-cli invoke: eight headers, a query.
func benchRequest() (*Request, *Function) {
	req := &Request{
		Method: "POST", Proto: "HTTP/1.1", Host: "gw.example:8080",
		Path: "/items/42", RawQuery: "verbose=1&format=json",
		Header: http.Header{
			"Accept":           {"*/*"},
			"Accept-Encoding":  {"gzip"},
			"Content-Length":   {"27"},
			"Content-Type":     {"application/json"},
			"User-Agent":       {"faas-cli/0.17.0 (openfaas; linux; amd64)"},
			"X-Call-Id":        {"2b7c0e3a-0000-4000-8000-000000000001"},
			"X-Forwarded-For":  {"203.0.113.7"},
			"X-Forwarded-Host": {"gw.example:8080"},
		},
		ContentLength: 27, RemoteAddr: "203.0.113.7:54321", ScriptName: "/function/hello",
	}
	fn := &Function{Name: "hello", Namespace: "openfaas-fn", EnvVars: map[string]string{"GREETING": "hi", "write_debug": "false"}}
	return req, fn
}

func BenchmarkPrepareOpenFaaS(b *testing.B) {
	req, fn := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		Prepare(OpenFaaS, req, fn)
	}
}

func BenchmarkPrepareWAGI(b *testing.B) {
	req, fn := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		Prepare(WAGI, req, fn)
	}
}

func BenchmarkParseCGI(b *testing.B) {
	out := []byte("Content-Type: application/json\r\nX-Request-Id: 1\r\nStatus: 201 Created\r\n\r\n{\"ok\":true}")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseCGI(out)
	}
}
