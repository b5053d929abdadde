package tlog

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Handler serves the log read-only in the tlog-tiles layout: GET
// PREFIX/checkpoint and PREFIX/tile/... (hash tiles and entry bundles).
// Nothing else under the storage directory (Tessera's state) is exposed.
func (l *Log) Handler(prefix string) http.Handler {
	if l.cl != nil {
		return l.cl.handler(prefix)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
		switch {
		case rel == "checkpoint":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
		case strings.HasPrefix(rel, "tile/"):
			w.Header().Set("Content-Type", "application/octet-stream")
			if !strings.Contains(rel, ".p/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			}
		default:
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(filepath.Join(l.dir, filepath.FromSlash(rel)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
}
