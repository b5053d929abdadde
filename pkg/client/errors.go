package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Error is a non-2xx answer from the gateway.
type Error struct {
	Op         string // what the client was doing: "deploy", "list functions", ...
	StatusCode int
	Code       string // stable error code from Sigil's JSON routes; empty for plain-text answers
	Message    string // the server's message, trimmed
}

// Error formats as "deploy: 400 Bad Request: image not found".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return strings.TrimRight(b.String(), " ")
}

// StatusCode returns the HTTP status of err when it is (or wraps) an *Error,
// else 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// readError builds an *Error from resp: JSON {"error","code"} when the
// content type says JSON, else the trimmed text.
func readError(op string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Op: op, StatusCode: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var ae APIError
		if err := json.Unmarshal(body, &ae); err == nil && (ae.Message != "" || ae.Code != "") {
			e.Code, e.Message = ae.Code, strings.TrimSpace(ae.Message)
			return e
		}
	}
	e.Message = strings.TrimSpace(string(body))
	return e
}
