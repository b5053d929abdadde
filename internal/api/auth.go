package api

import (
	"crypto/subtle"
	"net/http"
)

// Credentials are the gateway's basic-auth user and password.
type Credentials struct {
	User     string
	Password string
}

// requireAuth protects a handler exactly as OpenFaaS's gateway does: Basic
// auth, constant-time comparison, 401 with `WWW-Authenticate: Basic
// realm="Restricted"` and the body "invalid credentials". A nil c disables
// auth, in which case any Authorization header (faas-cli's empty
// "Bearer") is ignored.
func requireAuth(c *Credentials, next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	wantUser, wantPass := []byte(c.User), []byte(c.Password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(user), wantUser) == 1
		passOK := subtle.ConstantTimeCompare([]byte(pass), wantPass) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
			textError(w, http.StatusUnauthorized, "invalid credentials")
			return
		}
		next.ServeHTTP(w, r)
	})
}
