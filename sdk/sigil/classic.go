package sigil

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxLoggedBody bounds the error body an OpenFaaS-mode function copies to
// stderr.
const maxLoggedBody = 64 << 10

// serveOpenFaaS serves the one request of a classic-watchdog instance and
// returns the exit code: 0, or 1 when the status was 400 or more (the body
// then goes to stderr) or the handler panicked.
func serveOpenFaaS(environ []string, stdin io.Reader, stdout, stderr io.Writer, h http.Handler) int {
	body, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sigil: reading the request body: %v\n", err)
		return 1
	}
	w := &classicWriter{respState: respState{header: http.Header{}}, out: bufio.NewWriterSize(stdout, flushSize)}
	if serveOne(h, w, openfaasRequest(environ, body), stderr) {
		return 1
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.done = true
	if w.status >= 400 {
		fmt.Fprintf(stderr, "sigil: status %d: %s\n", w.status, strings.TrimSpace(string(w.errBody)))
		return 1
	}
	if err := w.out.Flush(); err != nil {
		fmt.Fprintf(stderr, "sigil: writing the response: %v\n", err)
		return 1
	}
	return 0
}

// openfaasSynthetic are the Http_ variables the watchdog derives from the
// request line, not from a header.
var openfaasSynthetic = map[string]bool{
	"Method": true, "Path": true, "Query": true, "Host": true,
	"ContentLength": true, "Content_Length": true, "Transfer_Encoding": true,
}

// openfaasRequest rebuilds the request from the classic watchdog's Http_*
// variables: Http_Method, Http_Path, Http_Query, Http_Host, and one
// Http_<Name> per header (underscores back to dashes).
func openfaasRequest(environ []string, body []byte) *http.Request {
	e := envMap(environ)
	h := http.Header{}
	for k, v := range e {
		name, ok := strings.CutPrefix(k, "Http_")
		if !ok || openfaasSynthetic[name] || name == "" {
			continue
		}
		h.Add(strings.ReplaceAll(name, "_", "-"), v)
	}
	path := e["Http_Path"]
	if path == "" {
		path = "/"
	}
	u := &url.URL{Path: path, RawQuery: e["Http_Query"]}
	return newRequest(e["Http_Method"], u, u.RequestURI(), h, e["Http_Host"], "", body)
}

// classicWriter writes the body straight to stdout (buffered) while the
// status is below 400, and keeps it for stderr otherwise. Headers cannot
// cross the classic ABI and are dropped.
type classicWriter struct {
	respState
	out     *bufio.Writer
	errBody []byte
}

var _ http.Flusher = (*classicWriter)(nil)

func (w *classicWriter) WriteHeader(code int) { w.acceptStatus(code) }

func (w *classicWriter) Write(p []byte) (int, error) {
	if err := w.startBody(w.WriteHeader); err != nil {
		return 0, err
	}
	if w.status >= 400 {
		if room := maxLoggedBody - len(w.errBody); room > 0 {
			w.errBody = append(w.errBody, p[:min(len(p), room)]...)
		}
		return len(p), nil
	}
	return w.out.Write(p)
}

func (w *classicWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.out.Flush()
}

// serveWAGI serves the one request of a CGI (WAGI) instance: the status and
// headers go out as CGI headers. It returns 0, or 1 if the handler panicked
// (the gateway then answers 500).
func serveWAGI(environ []string, stdin io.Reader, stdout, stderr io.Writer, h http.Handler) int {
	body, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sigil: reading the request body: %v\n", err)
		return 1
	}
	r, err := wagiRequest(environ, body)
	w := &cgiWriter{respState: respState{header: http.Header{}}, out: bufio.NewWriterSize(stdout, flushSize), logw: stderr}
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
	} else if serveOne(h, w, r, stderr) {
		return 1
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.commit()
	w.done = true
	if err := w.out.Flush(); err != nil {
		fmt.Fprintf(stderr, "sigil: writing the response: %v\n", err)
		return 1
	}
	return 0
}

// wagiRequest rebuilds the request from the CGI meta-variables.
func wagiRequest(environ []string, body []byte) (*http.Request, error) {
	e := envMap(environ)
	h := http.Header{}
	for k, v := range e {
		name, ok := strings.CutPrefix(k, "HTTP_")
		if !ok || name == "" {
			continue
		}
		h.Set(strings.ReplaceAll(name, "_", "-"), v)
	}
	if ct := e["CONTENT_TYPE"]; ct != "" {
		h.Set("Content-Type", ct)
	}
	path := e["X_RAW_PATH_INFO"]
	if path == "" {
		path = (&url.URL{Path: e["PATH_INFO"]}).EscapedPath()
	}
	if path == "" {
		path = "/"
	}
	uri := path
	if q := e["QUERY_STRING"]; q != "" {
		uri += "?" + q
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("request target %q: %w", uri, err)
	}
	host := h.Get("Host")
	if host == "" {
		host = e["SERVER_NAME"]
	}
	h.Del("Host")
	remote := e["REMOTE_ADDR"]
	return newRequest(e["REQUEST_METHOD"], u, uri, h, host, remote, body), nil
}

// cgiWriter writes a CGI header block (Status first, then the headers in
// name order, a repeated header's values joined with ", ") before the body.
type cgiWriter struct {
	respState
	committed bool
	pending   []byte // body held back to sniff the Content-Type
	out       *bufio.Writer
	logw      io.Writer
}

var _ http.Flusher = (*cgiWriter)(nil)

func (w *cgiWriter) WriteHeader(code int) { w.acceptStatus(code) }

func (w *cgiWriter) Write(p []byte) (int, error) {
	if err := w.startBody(w.WriteHeader); err != nil {
		return 0, err
	}
	if !w.committed {
		w.pending = append(w.pending, p...)
		if len(w.pending) >= 512 {
			w.commit()
		}
		return len(p), nil
	}
	return w.out.Write(p)
}

func (w *cgiWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.commit()
	_ = w.out.Flush()
}

// commit writes the header block and the held-back body.
func (w *cgiWriter) commit() {
	if w.committed {
		return
	}
	w.committed = true
	if _, ok := w.header["Content-Type"]; !ok && len(w.pending) > 0 {
		w.header.Set("Content-Type", http.DetectContentType(w.pending))
	}
	fmt.Fprintf(w.out, "Status: %d %s\n", w.status, http.StatusText(w.status))
	keys := make([]string, 0, len(w.header))
	for k := range w.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.Join(w.header[k], ", ")
		switch {
		case len(w.header[k]) == 0, strings.EqualFold(k, "Status"), cgiFraming(k):
			continue
		case !cgiToken(k) || !cgiValue(v):
			fmt.Fprintf(w.logw, "sigil: header %s dropped: CGI allows only visible ASCII\n", strconv.Quote(k))
			continue
		}
		fmt.Fprintf(w.out, "%s: %s\n", k, v)
	}
	_ = w.out.WriteByte('\n')
	_, _ = w.out.Write(w.pending)
	w.pending = nil
}

func cgiFraming(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Content-Length", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade":
		return true
	}
	return false
}

func cgiToken(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

func cgiValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}
