// Package client is the public Go client of Sigil's HTTP API: the OpenFaaS
// gateway routes (/system/*, /function/*, /async-function/*) plus Sigil's own
// (/system/artifacts). It sends exactly what faas-cli sends for the same
// operation, so a server that satisfies faas-cli satisfies this client and
// the other way round. The sigil CLI and the end-to-end tests use it.
//
// Every method that talks to /system/* turns a non-2xx answer into an
// *Error carrying the status, the server's error code (JSON routes) and its
// message. Invoke is the exception: it hands back the raw *http.Response,
// because a function's status, headers and body are the caller's business.
package client
