package abi

import "net/http"

// Request is one HTTP request as the ABI sees it (built by the gateway from
// *http.Request). Prepare and Compose only read it.
type Request struct {
	Method string
	Proto  string // "HTTP/1.1"; "" is taken as HTTP/1.1
	Host   string // r.Host
	// Path is the path sent to the function: the remainder after
	// /function/{name}, always starting with "/" (bare /function/f → "/").
	Path string
	// RawPath is the escaped form of Path when it differs from the default
	// escaping (url.URL.RawPath semantics), else "".
	RawPath  string
	RawQuery string // without "?"
	Header   http.Header
	// ContentLength is the body length; -1 when unknown (chunked). WAGI's
	// CONTENT_LENGTH is the buffered body's length, so for WAGI the caller
	// should pass len(body) once it has read it; -1 is reported as "0".
	ContentLength int64
	RemoteAddr    string // "ip:port"
	TLS           bool
	// ScriptName is the route the function is mounted at, e.g.
	// "/function/hello" (WAGI SCRIPT_NAME and X_MATCHED_ROUTE base).
	ScriptName string
}

// Function is the deployed function's side of the contract.
type Function struct {
	Name       string
	Namespace  string
	EnvProcess string            // OpenFaaS fprocess, e.g. "cat /var/openfaas/secrets/x"; "" if none
	EnvVars    map[string]string // deployment envVars
}

// Invocation is what the runtime needs to start the module.
type Invocation struct {
	Args []string // argv, argv[0] included
	Env  []string // "KEY=VALUE", deterministic order, each KEY once
}

// Result is what the module produced.
type Result struct {
	ExitCode uint32
	Stdout   []byte
}

// Response is the HTTP answer to write.
type Response struct {
	Status int
	Header http.Header // never nil
	Body   []byte
	// Err says why the module's output became an error response (for logs;
	// never sent to the client). It is nil for a well-formed answer, even a
	// 4xx/5xx one the function chose itself.
	Err error
}

// Prepare builds argv and env for one request. The body itself is passed to
// stdin by the caller untouched. An unknown kind is treated as OpenFaaS.
func Prepare(k Kind, req *Request, fn *Function) Invocation {
	if k == WAGI {
		return prepareWAGI(req, fn)
	}
	return prepareOpenFaaS(req, fn)
}

// Compose turns a finished run into the HTTP response. An unknown kind is
// treated as OpenFaaS.
func Compose(k Kind, req *Request, fn *Function, res Result) Response {
	if k == WAGI {
		return composeWAGI(res)
	}
	return composeOpenFaaS(req, fn, res)
}
