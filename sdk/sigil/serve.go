package sigil

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
)

// Serve runs h under the ABI the host chose and then exits the program: in
// pooled mode it serves requests until stdin closes; otherwise it serves the
// one request of this instance. It does not return.
func Serve(h http.Handler) {
	environ := os.Environ()
	switch detect(environ) {
	case modePooled:
		in, out := os.Stdin, os.Stdout
		// Stdout carries the protocol: stray prints go to the logs, and
		// nothing else may read the request frames.
		os.Stdout = os.Stderr
		os.Stdin = nil
		if err := servePooled(in, out, os.Stderr, h); err != nil {
			fmt.Fprintf(os.Stderr, "sigil: %v\n", err)
			os.Exit(2)
		}
		os.Exit(0)
	case modeWAGI:
		os.Exit(serveWAGI(environ, os.Stdin, os.Stdout, os.Stderr, h))
	default:
		os.Exit(serveOpenFaaS(environ, os.Stdin, os.Stdout, os.Stderr, h))
	}
}

type mode int

const (
	modeOpenFaaS mode = iota
	modeWAGI
	modePooled
)

// EnvABI is the variable the host sets to name the ABI ("pooled" for warm
// instances). Without it, CGI's GATEWAY_INTERFACE means WAGI and anything
// else the classic OpenFaaS watchdog contract.
const EnvABI = "SIGIL_ABI"

func detect(environ []string) mode {
	e := envMap(environ)
	switch strings.ToLower(e[EnvABI]) {
	case "pooled":
		return modePooled
	case "wagi":
		return modeWAGI
	case "openfaas":
		return modeOpenFaaS
	}
	if _, ok := e["GATEWAY_INTERFACE"]; ok {
		return modeWAGI
	}
	return modeOpenFaaS
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// serveOne runs the handler once, recovering a panic the way net/http does
// (http.ErrAbortHandler silently, anything else with a stack on logw). It
// reports whether the handler panicked.
func serveOne(h http.Handler, w http.ResponseWriter, r *http.Request, logw io.Writer) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				return
			}
			log.New(logw, "", 0).Printf("sigil: panic serving %s %s: %v\n%s", r.Method, r.URL, v, debug.Stack())
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// checkStatus panics on a code net/http would refuse, as net/http does.
func checkStatus(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
}

// errWriteAfterReturn is returned by writes after the handler returned.
var errWriteAfterReturn = errors.New("sigil: write after the handler returned")
