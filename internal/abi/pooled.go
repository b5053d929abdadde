package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The pooled ABI: a warm instance runs _start once and then serves one
// request after another over its stdin and stdout, in frames:
//
//	frame   = kind (1 byte) | length (4 bytes, big endian) | payload
//	guest → host, once at start: 'H' "sigil-pooled/1"
//	host → guest, per request:   'Q' request
//	guest → host, per response:  'S' head, then 'D' chunks (0 or more), then 'E'
//
// The end frame is empty, or says why the guest aborted a response whose
// head already went out (the body is then truncated).
// A request payload is method, host, path, raw query, remote address (each a
// uvarint length and the bytes), a uvarint count of header fields, each
// field a name and a value string, and then the body: every remaining byte.
// A head payload is the status as a uvarint and the header fields the same
// way. Each 'D' frame is one flushed chunk of the body.

// Frame kinds of the pooled ABI.
const (
	FrameHello   byte = 'H' // guest → host, once, payload PooledHello
	FrameRequest byte = 'Q' // host → guest, one request
	FrameHead    byte = 'S' // guest → host, status and header fields
	FrameData    byte = 'D' // guest → host, one chunk of the body
	FrameEnd     byte = 'E' // guest → host: the response is complete (a payload: aborted)
)

// PooledHello is the payload of the hello frame: the protocol and version.
const PooledHello = "sigil-pooled/1"

// FrameHeaderLen is the size of a frame's kind and length.
const FrameHeaderLen = 5

// MaxHeadPayload bounds a head frame (status and header fields).
const MaxHeadPayload = 1 << 20

// ErrPooledFrame means a pooled frame payload is malformed.
var ErrPooledFrame = errors.New("abi: malformed pooled frame")

// PooledRequest is one request as a pooled instance receives it.
type PooledRequest struct {
	Method string
	Host   string
	// Path is the escaped path the function sees, starting with "/" (for
	// the gateway: what follows /function/<name>).
	Path       string
	RawQuery   string // without "?"
	RemoteAddr string
	Header     http.Header
	Body       []byte
}

// AppendFrameHeader appends a frame header for a payload of n bytes.
func AppendFrameHeader(dst []byte, kind byte, n int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, kind), uint32(n))
}

// ParseFrameHeader splits the first FrameHeaderLen bytes of b.
func ParseFrameHeader(b []byte) (kind byte, n uint32) {
	return b[0], binary.BigEndian.Uint32(b[1:FrameHeaderLen])
}

// AppendFrame appends one complete frame.
func AppendFrame(dst []byte, kind byte, payload []byte) []byte {
	return append(AppendFrameHeader(dst, kind, len(payload)), payload...)
}

// AppendRequest appends r as one complete request frame. Header fields are
// written in sorted name order, values in their order.
func AppendRequest(dst []byte, r *PooledRequest) []byte {
	start := len(dst)
	dst = AppendFrameHeader(dst, FrameRequest, 0)
	for _, s := range [...]string{r.Method, r.Host, r.Path, r.RawQuery, r.RemoteAddr} {
		dst = appendString(dst, s)
	}
	dst = appendHeader(dst, r.Header)
	dst = append(dst, r.Body...)
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-FrameHeaderLen))
	return dst
}

// ParseRequest decodes a request payload. Body aliases payload.
func ParseRequest(payload []byte) (*PooledRequest, error) {
	d := decoder{b: payload}
	r := &PooledRequest{}
	for _, p := range [...]*string{&r.Method, &r.Host, &r.Path, &r.RawQuery, &r.RemoteAddr} {
		*p = d.string()
	}
	r.Header = d.header(false)
	if d.err != nil {
		return nil, fmt.Errorf("request frame: %w", d.err)
	}
	r.Body = d.b
	return r, nil
}

// AppendHead appends one complete head frame.
func AppendHead(dst []byte, status int, h http.Header) []byte {
	start := len(dst)
	dst = AppendFrameHeader(dst, FrameHead, 0)
	dst = binary.AppendUvarint(dst, uint64(max(status, 0)))
	dst = appendHeader(dst, h)
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-FrameHeaderLen))
	return dst
}

// ParseHead decodes a head payload written by a guest, which is not
// trusted: the status must be a final code (200–999), header names must be
// tokens (others are dropped) and are canonicalized, CR, LF and NUL in
// values become spaces, and the framing headers (Content-Length,
// Transfer-Encoding, Connection...) are dropped, as the server owns them.
func ParseHead(payload []byte) (status int, h http.Header, err error) {
	d := decoder{b: payload}
	code := d.uvarint()
	h = d.header(true)
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrPooledFrame, len(d.b))
	}
	if d.err != nil {
		return 0, nil, fmt.Errorf("head frame: %w", d.err)
	}
	if code < 200 || code > 999 {
		return 0, nil, fmt.Errorf("head frame: %w: status %d is not a final status", ErrPooledFrame, code)
	}
	for _, name := range framingHeaders {
		delete(h, name)
	}
	return int(code), h, nil
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendHeader(dst []byte, h http.Header) []byte {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	if n == 0 {
		return dst
	}
	var scratch [32]string
	keys := scratch[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			dst = appendString(appendString(dst, k), v)
		}
	}
	return dst
}

// decoder reads a payload; the first error sticks and zero values follow.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad length", ErrPooledFrame)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: string of %d bytes past the end", ErrPooledFrame, n)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// header reads the field count and fields. Untrusted input (from a guest)
// is sanitized; a request from the host is taken as it is.
func (d *decoder) header(untrusted bool) http.Header {
	n := d.uvarint()
	// Each field takes at least two bytes, which bounds the allocation.
	if d.err == nil && n > uint64(len(d.b))/2 {
		d.err = fmt.Errorf("%w: %d header fields in %d bytes", ErrPooledFrame, n, len(d.b))
	}
	if d.err != nil {
		return nil
	}
	h := make(http.Header, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		k, v := d.string(), d.string()
		if untrusted {
			if !validHeaderName(k) {
				continue
			}
			k = http.CanonicalHeaderKey(k)
			v = cleanValue(v)
		}
		h[k] = append(h[k], v)
	}
	return h
}

// cleanValue replaces the bytes net/http would refuse to send (CR, LF, NUL)
// with spaces, as net/http's server does for a handler's header values.
func cleanValue(v string) string {
	if !strings.ContainsAny(v, "\r\n\x00") {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, v)
}
