// Package api is Sigil's HTTP gateway: the OpenFaaS gateway and provider
// routes (so faas-cli and the go-sdk work unchanged), Sigil's own artifact
// routes, basic auth, and the invoke path that hands a request to the Wasm
// runtime through the ABI translation.
//
// Errors on OpenFaaS routes are one-line text/plain bodies, because that is
// what faas-cli prints to its users; Sigil's own routes (/system/artifacts)
// answer JSON {"error": "...", "code": "..."} with a stable code.
package api
