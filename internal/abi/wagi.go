package abi

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

const (
	// wagiServerSoftware is WAGI's and Spin's SERVER_SOFTWARE; modules that
	// sniff it keep working.
	wagiServerSoftware = "WAGI/1"
	// corruptValue replaces a header value that is not visible ASCII, as
	// WAGI does.
	corruptValue = "CORRUPT VALUE"
	wagiPrefix   = "HTTP_"
)

// isCGIVar reports whether name is one of the meta-variables Prepare sets
// for WAGI, which a deployment variable of the same name cannot override.
func isCGIVar(name string) bool {
	switch name {
	case "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE",
		"PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR",
		"REMOTE_HOST", "REMOTE_USER", "REQUEST_METHOD", "SCRIPT_NAME",
		"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
		"X_FULL_URL", "X_MATCHED_ROUTE", "X_RAW_PATH_INFO":
		return true
	}
	return false
}

// isWAGIStripped reports whether a header must never reach the module
// (RFC 3875 §4.1.18; WAGI strips exactly these two).
func isWAGIStripped(key string) bool {
	return cmpMappedLit(key, "AUTHORIZATION", true) == 0 || cmpMappedLit(key, "CONNECTION", true) == 0
}

// chunked is the value of the Transfer-Encoding pseudo-header.
var chunked = []string{"chunked"}

// wagiValue is the value of HTTP_<NAME>: the last value, as WAGI's
// HashMap insert leaves it, or CORRUPT VALUE when it is not visible ASCII.
func wagiValue(vals []string) string {
	v := vals[len(vals)-1]
	if !visibleASCII(v) {
		return corruptValue
	}
	return v
}

func prepareWAGI(req *Request, fn *Function) Invocation {
	var hscratch [26]hdr
	hs := collectHeaders(req.Header, hscratch[:], isWAGIStripped)
	// Go keeps Host and Transfer-Encoding outside r.Header; hyper, which WAGI
	// and Spin use, keeps them in, so the module sees HTTP_HOST and
	// HTTP_TRANSFER_ENCODING there.
	var hostVals [1]string
	if _, ok := req.Header["Host"]; !ok && req.Host != "" {
		hostVals[0] = req.Host
		hs = append(hs, hdr{key: "Host", vals: hostVals[:]})
	}
	if _, ok := req.Header["Transfer-Encoding"]; !ok && req.ContentLength < 0 {
		hs = append(hs, hdr{key: "Transfer-Encoding", vals: chunked})
	}
	hs = sortHeaders(hs, true)

	var kscratch [32]string
	keys := sortedKeys(fn.EnvVars, kscratch[:])
	size, n := 0, 19
	kept := keys[:0]
	for _, k := range keys {
		if isCGIVar(k) {
			continue
		}
		if name, ok := strings.CutPrefix(k, wagiPrefix); ok && hasMapped(hs, name, true) {
			continue
		}
		kept = append(kept, k)
		size += len(k) + len(fn.EnvVars[k]) + 1
		n++
	}
	for _, h := range hs {
		size += len(wagiPrefix) + len(h.key) + len(h.vals[len(h.vals)-1]) + 1
		n++
	}

	host, port := serverHostPort(req.Host, req.TLS)
	ip := clientIP(req.RemoteAddr)
	escPath := escapedPath(req)
	script := req.ScriptName
	if strings.HasSuffix(script, "/") && strings.HasPrefix(escPath, "/") {
		script = script[:len(script)-1]
	}
	pathInfo := req.Path
	if !utf8.ValidString(pathInfo) {
		pathInfo = strings.ToValidUTF8(pathInfo, "\uFFFD")
	}
	proto := req.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	var contentType string
	if v := req.Header["Content-Type"]; len(v) > 0 {
		contentType = wagiValue(v)
	}
	size += 400 + 2*len(req.Method) + 2*len(req.RawQuery) + 2*len(script) + 3*len(escPath) +
		2*len(pathInfo) + 2*len(ip) + len(host) + 2*len(port) + len(proto) + len(contentType) + len(req.ScriptName)

	b := newEnvBuf(size, n)
	for _, k := range kept {
		b.add(k, fn.EnvVars[k])
	}
	b.add("AUTH_TYPE", "")
	b.addInt("CONTENT_LENGTH", max(req.ContentLength, 0))
	b.add("CONTENT_TYPE", contentType)
	b.add("GATEWAY_INTERFACE", "CGI/1.1")
	b.add("PATH_INFO", pathInfo)
	b.add("PATH_TRANSLATED", pathInfo)
	b.add("QUERY_STRING", req.RawQuery)
	b.add("REMOTE_ADDR", ip)
	b.add("REMOTE_HOST", ip)
	b.add("REMOTE_USER", "")
	b.add("REQUEST_METHOD", req.Method)
	b.add("SCRIPT_NAME", req.ScriptName)
	b.add("SERVER_NAME", host)
	b.add("SERVER_PORT", port)
	b.add("SERVER_PROTOCOL", proto)
	b.add("SERVER_SOFTWARE", wagiServerSoftware)

	// X_FULL_URL holds the request path as the client sent it, which is
	// also argv[0]: slice it out rather than building it twice.
	s := b.start("X_FULL_URL")
	if req.TLS {
		b.buf = append(b.buf, "https://"...)
	} else {
		b.buf = append(b.buf, "http://"...)
	}
	b.buf = appendValue(b.buf, host)
	b.buf = append(b.buf, ':')
	b.buf = appendValue(b.buf, port)
	p0 := len(b.buf)
	b.buf = appendValue(b.buf, script)
	b.buf = appendValue(b.buf, escPath)
	p1 := len(b.buf)
	if req.RawQuery != "" {
		b.buf = append(b.buf, '?')
		b.buf = appendValue(b.buf, req.RawQuery)
	}
	b.end(s)
	fullURL := b.out[len(b.out)-1]
	argv0 := fullURL[p0-s : p1-s]

	s = b.start("X_MATCHED_ROUTE")
	b.buf = appendValue(b.buf, script)
	b.buf = append(b.buf, "/..."...)
	b.end(s)
	b.add("X_RAW_PATH_INFO", escPath)
	for _, h := range hs {
		s := len(b.buf)
		b.buf = append(b.buf, wagiPrefix...)
		b.buf = appendMapped(b.buf, h.key, true)
		b.buf = append(b.buf, '=')
		b.buf = appendValue(b.buf, wagiValue(h.vals))
		b.end(s)
	}
	return Invocation{Args: wagiArgs(argv0, req.RawQuery), Env: b.out}
}

// wagiArgs is WAGI's default argv: the request path, then each raw
// &-separated query item (empty items kept, nothing decoded).
func wagiArgs(argv0, rawQuery string) []string {
	if rawQuery == "" {
		return []string{argv0}
	}
	args := make([]string, 1, strings.Count(rawQuery, "&")+2)
	args[0] = argv0
	for item := range strings.SplitSeq(rawQuery, "&") {
		args = append(args, cleanArg(item))
	}
	return args
}

// serverHostPort splits the Host header like WAGI (at the first ':'; an
// empty part keeps the default), defaulting to localhost and the scheme's
// port. A bracketed IPv6 literal is kept whole, where WAGI would split it at
// its first colon.
func serverHostPort(hostHeader string, tls bool) (host, port string) {
	host, port = "localhost", "80"
	if tls {
		port = "443"
	}
	if hostHeader == "" || !visibleASCII(hostHeader) {
		return host, port
	}
	var h, p string
	var found bool
	if hostHeader[0] == '[' {
		if i := strings.IndexByte(hostHeader, ']'); i > 0 {
			h = hostHeader[:i+1]
			p, found = strings.CutPrefix(hostHeader[i+1:], ":")
		} else {
			h = hostHeader
		}
	} else {
		h, p, found = strings.Cut(hostHeader, ":")
	}
	if h != "" {
		host = h
	}
	if found && p != "" {
		port = p
	}
	return host, port
}

// clientIP is the IP part of an "ip:port" remote address, without the
// brackets of an IPv6 literal, as Rust's IpAddr prints it.
func clientIP(remote string) string {
	if strings.HasPrefix(remote, "[") {
		if i := strings.IndexByte(remote, ']'); i > 0 {
			return remote[1:i]
		}
	}
	if i := strings.LastIndexByte(remote, ':'); i >= 0 && strings.IndexByte(remote, ':') == i {
		return remote[:i]
	}
	return remote
}

// escapedPath is Path as the client sent it: RawPath when set, else the
// default escaping of Path (url.URL.EscapedPath semantics).
func escapedPath(req *Request) string {
	if req.RawPath != "" {
		return req.RawPath
	}
	if !pathNeedsEscape(req.Path) {
		return req.Path
	}
	return (&url.URL{Path: req.Path}).EscapedPath()
}

// pathNeedsEscape reports whether url.PathEscape-style path escaping would
// change p: only unreserved bytes and "$&+,/:;=@" pass unescaped.
func pathNeedsEscape(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		}
		if strings.IndexByte("-_.~$&+,/:;=@", c) < 0 {
			return true
		}
	}
	return false
}
