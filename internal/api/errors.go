package api

import (
	"encoding/json"
	"net/http"
)

// Stable error codes of Sigil's JSON errors. Never renamed once released.
const (
	CodeBadRequest    = "bad_request"
	CodeInvalidModule = "invalid_module"
	CodeInvalidRef    = "invalid_reference"
	CodeInvalidABI    = "invalid_abi"
	CodeTooLarge      = "too_large"
	CodeNotFound      = "not_found"
	CodeUnauthorized  = "unauthorized"
	CodeInternal      = "internal"
	CodeUnavailable   = "unavailable"
)

// textError answers an OpenFaaS route's error as one line of text.
func textError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// jsonError answers one of Sigil's own routes with {"error","code"}.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		textError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
