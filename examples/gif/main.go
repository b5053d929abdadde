// Command gif converts a PNG or JPEG request body into a GIF, written with
// the Go guest SDK (sdk/sigil). The optional query parameter w=<pixels>
// scales the image down to that width (nearest neighbour, aspect ratio
// kept). It answers Content-Type: image/gif where the ABI carries headers
// (WAGI, pooled); under the OpenFaaS ABI the deployment env
// content_type=image/gif does it.
package main

import (
	"bytes"
	"net/http"

	"github.com/sigilhq/sigil/sdk/sigil"
)

func main() {
	sigil.Serve(http.HandlerFunc(handle))
}

func handle(w http.ResponseWriter, r *http.Request) {
	var out bytes.Buffer
	if err := convert(r.Body, &out, r.URL.RawQuery); err != nil {
		http.Error(w, "gif: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/gif")
	_, _ = w.Write(out.Bytes())
}
