package abi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// openfaasPrefix starts every request variable of the classic watchdog.
const openfaasPrefix = "Http_"

// openfaasSynthetic are the names (after "Http_") the watchdog derives from
// the request line rather than from a header. A header that maps to one of
// them (a "Method:" header would become Http_Method) is dropped, so a client
// cannot spoof them.
var openfaasSynthetic = [...]string{"ContentLength", "Content_Length", "Host", "Method", "Path", "Query", "Transfer_Encoding"}

func isOpenFaaSSynthetic(headerKey string) bool {
	for _, s := range openfaasSynthetic {
		if cmpMappedLit(headerKey, s, false) == 0 {
			return true
		}
	}
	return false
}

// transferEncoding is the request's transfer coding as the watchdog reports
// it: the header if the gateway kept it, else "chunked" when the length is
// unknown (Go moves Transfer-Encoding out of r.Header and sets
// ContentLength to -1 exactly when the body is chunked).
func transferEncoding(req *Request) string {
	if te := req.Header.Get("Transfer-Encoding"); te != "" {
		return te
	}
	if req.ContentLength < 0 {
		return "chunked"
	}
	return ""
}

func prepareOpenFaaS(req *Request, fn *Function) Invocation {
	var hscratch [24]hdr
	hs := collectHeaders(req.Header, hscratch[:], isOpenFaaSSynthetic)
	hs = sortHeaders(hs, false)

	te := transferEncoding(req)
	// synthetic reports whether the request variable Http_<name> is set for
	// this request, and so overrides a deployment variable of that name.
	synthetic := func(name string) bool {
		switch name {
		case "Method", "ContentLength", "Content_Length":
			return true
		case "Transfer_Encoding":
			return te != ""
		case "Query":
			return req.RawQuery != ""
		case "Path":
			return req.Path != ""
		case "Host":
			return req.Host != ""
		}
		return false
	}

	var kscratch [32]string
	keys := sortedKeys(fn.EnvVars, kscratch[:])
	size, n := 0, 0
	kept := keys[:0]
	for _, k := range keys {
		if k == "fprocess" && fn.EnvProcess != "" {
			continue
		}
		if name, ok := strings.CutPrefix(k, openfaasPrefix); ok && (synthetic(name) || hasMapped(hs, name, false)) {
			continue
		}
		kept = append(kept, k)
		size += len(k) + len(fn.EnvVars[k]) + 1
		n++
	}
	size += len(fn.EnvProcess) + len(req.Method) + len(te) + len(req.RawQuery) + len(req.Path) + len(req.Host) + 200
	n += 8
	for _, h := range hs {
		size += len(openfaasPrefix) + len(h.key) + len(h.vals[0]) + 1
		n++
	}

	b := newEnvBuf(size, n)
	for _, k := range kept {
		b.add(k, fn.EnvVars[k])
	}
	if fn.EnvProcess != "" {
		b.add("fprocess", fn.EnvProcess)
	}
	b.add("Http_Method", req.Method)
	b.addInt("Http_ContentLength", req.ContentLength)
	b.addInt("Http_Content_Length", req.ContentLength)
	if te != "" {
		b.add("Http_Transfer_Encoding", te)
	}
	if req.RawQuery != "" {
		b.add("Http_Query", req.RawQuery)
	}
	if req.Path != "" {
		b.add("Http_Path", req.Path)
	}
	if req.Host != "" {
		b.add("Http_Host", req.Host)
	}
	for _, h := range hs {
		s := len(b.buf)
		b.buf = append(b.buf, openfaasPrefix...)
		b.buf = appendMapped(b.buf, h.key, false)
		b.buf = append(b.buf, '=')
		b.buf = appendValue(b.buf, h.vals[0])
		b.end(s)
	}
	return Invocation{Args: openfaasArgs(fn), Env: b.out}
}

// openfaasArgs is argv: fprocess split on white space, as the watchdog does,
// else the function's name alone.
func openfaasArgs(fn *Function) []string {
	if args := strings.Fields(fn.EnvProcess); len(args) > 0 {
		for i, a := range args {
			args[i] = cleanArg(a)
		}
		return args
	}
	return []string{cleanArg(fn.Name)}
}

// defaultContentType is what the OpenFaaS provider proxy falls back to when
// neither the function nor the request names a content type.
const defaultContentType = "text/plain"

// errorContentType labels the bodies this package writes itself.
const errorContentType = "text/plain; charset=utf-8"

func composeOpenFaaS(req *Request, fn *Function, res Result) Response {
	if res.ExitCode != 0 {
		return Response{
			Status: http.StatusInternalServerError,
			Header: http.Header{"Content-Type": {errorContentType}},
			Body:   []byte("exit code " + strconv.FormatUint(uint64(res.ExitCode), 10) + "\n"),
			Err:    fmt.Errorf("abi: function exited with code %d", res.ExitCode),
		}
	}
	ct := fn.EnvVars["content_type"]
	if ct == "" {
		ct = req.Header.Get("Content-Type")
	}
	if ct == "" {
		ct = defaultContentType
	}
	return Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {ct}},
		Body:   res.Stdout,
	}
}
