package abi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Reasons ParseCGI and Compose turn a module's output into an error
// response. Test with errors.Is; the returned errors add context.
var (
	// ErrEmptyOutput: a WAGI module wrote nothing to stdout (Spin: "did not
	// write to stdout") → 500, empty body.
	ErrEmptyOutput = errors.New("abi: module did not write to stdout")
	// ErrHeaderNotUTF8: the CGI header block is not UTF-8 → 500, empty body.
	ErrHeaderNotUTF8 = errors.New("abi: CGI header block is not valid UTF-8")
	// ErrInvalidHeaderValue: a CGI header value holds bytes other than
	// visible ASCII and tab (Spin's HeaderValue::from_str fails) → 500,
	// empty body.
	ErrInvalidHeaderValue = errors.New("abi: invalid CGI header value")
	// ErrInsufficientHeaders: none of Content-Type, Status or Location (or
	// no blank line ending the headers) → 500 with InsufficientHeadersBody.
	ErrInsufficientHeaders = errors.New("abi: CGI output has no Content-Type, Status or Location header")
	// ErrInvalidStatus: the Status header's code is not a valid final code
	// → 502, headers and body kept.
	ErrInvalidStatus = errors.New("abi: invalid CGI Status")
	// ErrExit: the module exited with a non-zero code → 500.
	ErrExit = errors.New("abi: module exited with a non-zero code")
)

// InsufficientHeadersBody is WAGI's body for output without a sufficient
// header, byte for byte.
const InsufficientHeadersBody = "Exactly one of 'location' or 'content-type' must be specified"

// framingHeaders are response headers a module may not set: the server
// owns the message framing and the connection.
var framingHeaders = [...]string{"Connection", "Content-Length", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func composeWAGI(res Result) Response {
	if res.ExitCode != 0 {
		return Response{
			Status: http.StatusInternalServerError,
			Header: http.Header{},
			Err:    fmt.Errorf("%w: exit code %d", ErrExit, res.ExitCode),
		}
	}
	resp, err := ParseCGI(res.Stdout)
	resp.Err = err
	return resp
}

// ParseCGI parses a WAGI module's stdout the way WAGI and Spin do
// (compose_response): CRs are dropped from the header section, which ends at
// the first blank line; each header line is split at its first ':' and
// trimmed; a repeated name keeps its last value; Status sets the code,
// Location sets 302 unless Status is given, Content-Type, Status or Location
// must be present; the rest of stdout is the body, byte for byte.
//
// The Response is always usable, and always carries a status between 200
// and 999; a non-nil error says why it is an error response (for logs).
// When the module sent no Content-Type, Header holds Content-Type with a nil
// value, which tells net/http not to sniff one (copy it with the rest).
func ParseCGI(stdout []byte) (Response, error) {
	if len(stdout) == 0 {
		return failure(http.StatusInternalServerError, ""), ErrEmptyOutput
	}
	end := headerEnd(stdout)
	if end < 0 {
		return failure(http.StatusInternalServerError, InsufficientHeadersBody),
			fmt.Errorf("%w (no blank line after the headers)", ErrInsufficientHeaders)
	}
	block := stdout[:end]
	if bytes.IndexByte(block, '\r') >= 0 {
		block = bytes.ReplaceAll(block, []byte{'\r'}, nil)
	}
	if !utf8.Valid(block) {
		return failure(http.StatusInternalServerError, ""), ErrHeaderNotUTF8
	}

	resp := Response{Status: http.StatusOK, Header: http.Header{}, Body: stdout[end+1:]}
	var status string
	var hasStatus, hasType, hasLocation bool
	for line := range strings.SplitSeq(strings.TrimSpace(string(block)), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue // WAGI logs "corrupt header" and skips the line
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "Status"):
			status, hasStatus = value, true
			continue
		case strings.EqualFold(name, "Content-Type"):
			hasType = true
		case strings.EqualFold(name, "Location"):
			hasLocation = true
		}
		if validHeaderName(name) {
			resp.Header.Set(name, value)
		}
	}
	for _, h := range framingHeaders {
		delete(resp.Header, h)
	}
	for name, vals := range resp.Header {
		if !visibleASCII(vals[0]) {
			return failure(http.StatusInternalServerError, ""),
				fmt.Errorf("%w for %s", ErrInvalidHeaderValue, name)
		}
	}
	if !hasType && !hasStatus && !hasLocation {
		return failure(http.StatusInternalServerError, InsufficientHeadersBody), ErrInsufficientHeaders
	}
	if _, ok := resp.Header["Content-Type"]; !ok {
		// A nil value tells net/http not to sniff one: WAGI sends none.
		resp.Header["Content-Type"] = nil
	}
	if hasLocation {
		resp.Status = http.StatusFound
	}
	if hasStatus {
		code, _, _ := strings.Cut(status, " ")
		c, ok := parseStatus(code)
		if !ok {
			resp.Status = http.StatusBadGateway
			return resp, fmt.Errorf("%w %q", ErrInvalidStatus, status)
		}
		resp.Status = c
	}
	return resp, nil
}

// headerEnd returns the index of the LF that ends the header section (the
// second of two LFs with only CRs between them), or -1 if there is none.
func headerEnd(out []byte) int {
	var last byte
	for i, c := range out {
		switch {
		case c == '\r':
			continue
		case c == '\n' && last == '\n':
			return i
		}
		last = c
	}
	return -1
}

// parseStatus accepts what the Rust http crate's StatusCode::from_str
// accepts (exactly three ASCII digits, 100–999) except 1xx: those are
// interim responses, and net/http cannot send one as the final answer.
func parseStatus(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 200
}

// failure is an error response this package writes itself.
func failure(status int, body string) Response {
	h := http.Header{}
	var b []byte
	if body != "" {
		h.Set("Content-Type", errorContentType)
		b = []byte(body)
	}
	return Response{Status: status, Header: h, Body: b}
}
