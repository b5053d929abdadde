package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sigilhq/sigil/internal/fnlog"
	"github.com/sigilhq/sigil/pkg/client"
)

// logs serves GET /system/logs as application/x-ndjson, one message per line,
// flushed per message. Query errors answer 422 as faas-provider does.
func (g *Gateway) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		textError(w, http.StatusUnprocessableEntity, "name is required")
		return
	}
	ns, ok := g.namespaceOf(w, r, "")
	if !ok {
		return
	}
	fq := fnlog.Query{Namespace: ns, Name: name}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			textError(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid tail %q: want an integer", v))
			return
		}
		fq.Tail = n // <= 0 means everything
	}
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			textError(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid follow %q: want true or false", v))
			return
		}
		fq.Follow = b
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			textError(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid since %q: want RFC 3339", v))
			return
		}
		fq.Since = t
	}
	if _, ok := g.cfg.Registry.Function(ns, name); !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	err := g.cfg.Logs.Read(r.Context(), fq, func(m fnlog.Message) error {
		if err := enc.Encode(client.LogMessage(m)); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		g.log.Warn("logs stream ended with an error", "function", name, "namespace", ns, "err", err)
	}
}
