package sigil

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"unsafe"
)

// The guest's side of the pooled frame protocol. The host's side, and the
// protocol's description, is in Sigil's internal/abi/pooled.go; this copy
// keeps the SDK free of non-standard imports, so `sigil new` can vendor it.
// sigil_test.go checks that both sides agree byte for byte.

const (
	frameHello   byte = 'H'
	frameRequest byte = 'Q'
	frameHead    byte = 'S'
	frameData    byte = 'D'
	frameEnd     byte = 'E'

	pooledHello    = "sigil-pooled/1"
	frameHeaderLen = 5
)

var errFrame = errors.New("malformed request frame")

// wireRequest is a decoded request frame.
type wireRequest struct {
	method, host, path, rawQuery, remoteAddr string
	header                                   http.Header
	body                                     []byte
}

func appendFrameHeader(dst []byte, kind byte, n int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, kind), uint32(n))
}

func appendFrame(dst []byte, kind byte, payload []byte) []byte {
	return append(appendFrameHeader(dst, kind, len(payload)), payload...)
}

// appendHead appends a head frame: the status, then the header fields in
// name order.
func appendHead(dst []byte, status int, h http.Header) []byte {
	start := len(dst)
	dst = appendFrameHeader(dst, frameHead, 0)
	dst = binary.AppendUvarint(dst, uint64(status))
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	var scratch [16]string
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
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-frameHeaderLen))
	return dst
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// parseRequest decodes a request payload. The strings and the body share
// payload's memory, which the caller must never modify or reuse: one
// allocation per request instead of one per field.
func parseRequest(payload []byte) (*wireRequest, error) {
	b := payload
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := b[k : k+int(n)]
		b = b[k+int(n):]
		if len(s) == 0 {
			return "", true
		}
		return unsafe.String(&s[0], len(s)), true
	}
	r := &wireRequest{}
	for _, p := range [...]*string{&r.method, &r.host, &r.path, &r.rawQuery, &r.remoteAddr} {
		var ok bool
		if *p, ok = str(); !ok {
			return nil, errFrame
		}
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k)/2 {
		return nil, errFrame
	}
	b = b[k:]
	r.header = make(http.Header, n)
	for range n {
		key, ok1 := str()
		val, ok2 := str()
		if !ok1 || !ok2 {
			return nil, errFrame
		}
		if vs := r.header[key]; vs == nil {
			r.header[key] = []string{val}
		} else {
			r.header[key] = append(vs, val)
		}
	}
	r.body = b
	return r, nil
}
