// Package sigil is the Go guest SDK for Sigil functions: write a standard
// http.Handler, call Serve from main, and build with
// GOOS=wasip1 GOARCH=wasm go build.
//
//	func main() {
//		sigil.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			fmt.Fprintf(w, "Hello, %s!\n", r.URL.Query().Get("name"))
//		}))
//	}
//
// The same module runs under each of Sigil's ABIs; Serve finds out which
// from its environment (SIGIL_ABI, else the CGI or OpenFaaS variables):
//
//   - pooled: a warm instance serves one request after another, framed on
//     stdin and stdout (see internal/abi/pooled.go). Everything works: method,
//     path, query, headers and body in; status, headers and a streamed body
//     (each Flush sends a chunk) out. os.Stdout is redirected to stderr (the
//     function's logs) because stdout carries the protocol, and os.Stdin is
//     set to nil.
//   - wagi: one request per instance, as CGI; status and headers are written
//     as CGI headers (a repeated header keeps its values joined with ", ").
//   - openfaas (the default, the classic watchdog): one request per instance;
//     the body goes to stdout. The classic ABI cannot carry a status or
//     headers: a status of 400 or more sends the body to stderr (the logs)
//     and exits 1, which the gateway answers with 500; response headers are
//     dropped (set the deployment's content_type env instead).
//
// A panic in the handler is recovered as net/http does: logged to stderr,
// answered with 500 if nothing was sent yet.
package sigil
