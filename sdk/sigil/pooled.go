package sigil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// AbortedReason is the end frame's payload when the handler panicked after
// the head went out: the host then knows the body is truncated.
const AbortedReason = "handler panicked after the response started"

// flushSize is how much body the pooled writer buffers before it sends a
// chunk on its own (net/http's server buffers 4 KiB; a frame costs a host
// call, so this is larger).
const flushSize = 32 << 10

// servePooled announces the protocol on out, then serves request frames
// from in until in ends. It returns nil at the end of in and an error when
// the stream breaks.
func servePooled(in io.Reader, out, logw io.Writer, h http.Handler) error {
	if _, err := out.Write(appendFrame(nil, frameHello, []byte(pooledHello))); err != nil {
		return fmt.Errorf("writing the hello frame: %w", err)
	}
	br := bufio.NewReaderSize(in, 64<<10)
	w := &frameWriter{out: out}
	var hdr [frameHeaderLen]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("reading a request frame: %w", err)
		}
		kind, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
		if kind != frameRequest {
			return fmt.Errorf("unexpected frame kind %q from the host", kind)
		}
		// A fresh buffer per request: the body may outlive the handler in a
		// goroutine it started.
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return fmt.Errorf("reading a request frame: %w", err)
		}
		preq, err := parseRequest(payload)
		if err != nil {
			return err
		}
		w.reset()
		r, err := pooledRequest(preq)
		if err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			if serveOne(h, w, r.WithContext(ctx), logw) {
				w.recover()
			}
			cancel()
		}
		if err := w.finish(); err != nil {
			return fmt.Errorf("writing the response: %w", err)
		}
	}
}

// pooledRequest builds the handler's request, as net/http's server would.
func pooledRequest(p *wireRequest) (*http.Request, error) {
	uri := p.path
	if p.rawQuery != "" {
		uri += "?" + p.rawQuery
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("request target %q: %w", uri, err)
	}
	return newRequest(p.method, u, uri, p.header, p.host, p.remoteAddr, p.body), nil
}

// newRequest fills in an *http.Request the way net/http's server does for
// an HTTP/1.1 request with a known body.
func newRequest(method string, u *url.URL, uri string, h http.Header, host, remote string, body []byte) *http.Request {
	if method == "" {
		method = http.MethodGet
	}
	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          host,
		RemoteAddr:    remote,
		RequestURI:    uri,
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r
}

// frameWriter is the pooled http.ResponseWriter: it buffers the body and
// sends a head frame, data frames and an end frame, in as few writes as it
// can (one for a small response).
type frameWriter struct {
	respState
	out     io.Writer
	sent    http.Header // header as of WriteHeader
	headOut bool        // the head frame went out
	aborted bool        // the handler panicked after the head went out
	body    []byte      // body not sent yet
	buf     []byte      // frames being assembled
	err     error       // first error writing to out
}

var _ http.Flusher = (*frameWriter)(nil)

func (w *frameWriter) reset() {
	w.header = http.Header{}
	w.sent = nil
	w.status = 0
	w.headOut = false
	w.done = false
	w.aborted = false
	w.body = w.body[:0]
}

func (w *frameWriter) WriteHeader(code int) {
	if w.acceptStatus(code) {
		w.sent = w.header.Clone()
	}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	if err := w.startBody(w.WriteHeader); err != nil {
		return 0, err
	}
	w.body = append(w.body, p...)
	if len(w.body) >= flushSize {
		if err := w.flush(false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush sends the head and whatever body is buffered, as one chunk.
func (w *frameWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting the error (http.ResponseController uses it).
func (w *frameWriter) FlushError() error {
	if w.done {
		return errWriteAfterReturn
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.flush(false)
}

// recover answers 500 after a panic if nothing was sent yet; otherwise the
// end frame will say the response was aborted.
func (w *frameWriter) recover() {
	if w.headOut {
		w.aborted = true
		return
	}
	w.body = w.body[:0]
	w.header = http.Header{}
	w.status = 0
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// finish ends the response.
func (w *frameWriter) finish() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	err := w.flush(true)
	w.done = true
	return err
}

func (w *frameWriter) flush(end bool) error {
	if w.err != nil {
		return w.err
	}
	b := w.buf[:0]
	if !w.headOut {
		h := w.sent
		if _, ok := h["Content-Type"]; !ok && len(w.body) > 0 && bodyAllowed(w.status) {
			h.Set("Content-Type", http.DetectContentType(w.body[:min(len(w.body), 512)]))
		}
		b = appendHead(b, w.status, h)
		w.headOut = true
	}
	if len(w.body) > 0 {
		b = appendFrame(b, frameData, w.body)
		w.body = w.body[:0]
	}
	if end {
		var reason []byte // an end frame with a payload aborts the response
		if w.aborted {
			reason = []byte(AbortedReason)
		}
		b = appendFrame(b, frameEnd, reason)
	}
	if len(b) > 0 {
		_, w.err = w.out.Write(b)
	}
	w.buf = b[:0]
	return w.err
}
