// Command hello is Sigil's hello-world function, written with the Go guest
// SDK (sdk/sigil): it answers "Hello, <body>!", or "Hello, world!" when the
// body is empty. The same module runs in a fresh instance per request
// (OpenFaaS or WAGI ABI) and warm in a pool (pooled ABI).
package main

import (
	"io"
	"net/http"
	"strings"

	"github.com/sigilhq/sigil/sdk/sigil"
)

func main() {
	sigil.Serve(http.HandlerFunc(hello))
}

func hello(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "hello: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, greeting(string(body))+"\n")
}

// greeting returns the answer for body, ignoring surrounding white space.
func greeting(body string) string {
	name := strings.TrimSpace(body)
	if name == "" {
		name = "world"
	}
	return "Hello, " + name + "!"
}
