// Package abi owns the translation between one HTTP request and one WASI
// command run, for the two request ABIs Sigil speaks:
//
//   - OpenFaaS: the classic watchdog contract. The body goes to stdin, stdout
//     is the response body, the request arrives as Http_* environment
//     variables and the deployment's fprocess becomes argv.
//   - WAGI: CGI 1.1 as WAGI and Spin implement it. The request arrives as CGI
//     meta-variables (REQUEST_METHOD, PATH_INFO, HTTP_*, ...) and argv; stdout
//     starts with CGI headers and a blank line, then the body.
//
// A third ABI, pooled, serves many requests per warm instance: AppendRequest
// and ParseHead (pooled.go) are the host's side of its frame codec.
//
// Prepare builds argv and env; Compose (and ParseCGI, its WAGI parser) turns
// the exit code and stdout into the HTTP response. The package is pure: it
// imports only the standard library, never reads the host environment, and
// does no I/O, so it can be fuzzed and benchmarked in isolation.
package abi
