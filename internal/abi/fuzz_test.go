package abi

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseCGI: never panics, the status is always one net/http can write,
// and the body is a suffix of stdout unless it is one this package wrote.
func FuzzParseCGI(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cgi", "*.out"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("Status: 200\r\r\n\r\r\nx"))
	f.Fuzz(func(t *testing.T, stdout []byte) {
		resp, err := ParseCGI(stdout)
		resp.Err = err
		checkResponse(t, stdout, resp)
		if err == nil {
			for k, v := range resp.Header {
				if k == "Content-Type" && v == nil {
					continue
				}
				if !validHeaderName(k) || len(v) != 1 || !visibleASCII(v[0]) {
					t.Fatalf("bad header %q: %q", k, v)
				}
			}
		}
	})
}

// FuzzPrepare: for any request both ABIs give a non-empty argv and an env of
// unique, valid keys with no NUL anywhere.
func FuzzPrepare(f *testing.F) {
	f.Add("GET", "/a%2Fb", "/a/b", "x=1&y", "X-Tag", "v", "Http_X_Tag", "d", "gw:80", "1.2.3.4:5", int64(3))
	f.Add("POST", "", "/\x00", "", "Method", "\xff", "REQUEST_METHOD", "x\x00", "[::1", "[::1]:1", int64(-1))
	f.Fuzz(func(t *testing.T, method, rawPath, path, query, hk, hv, ek, ev, host, remote string, cl int64) {
		req := &Request{
			Method: method, Proto: "HTTP/1.1", Host: host, Path: path, RawPath: rawPath,
			RawQuery: query, Header: http.Header{hk: {hv}, "X_" + hk: {hv, hv}}, ContentLength: cl,
			RemoteAddr: remote, ScriptName: "/function/f",
		}
		fn := &Function{Name: "f", EnvProcess: hv, EnvVars: map[string]string{ek: ev, "Http_" + hk: ev, "HTTP_" + hk: ev}}
		for _, k := range Kinds {
			checkInvariants(t, Prepare(k, req, fn))
		}
	})
}
