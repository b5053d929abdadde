package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/registry"
	"github.com/sigilhq/sigil/pkg/client"
)

func (g *Gateway) asyncQueue(w http.ResponseWriter, r *http.Request) {
	n, first, err := g.cfg.Async.Depth(r.Context())
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	st := client.QueueStatus{Depth: n}
	if n > 0 && !first.IsZero() {
		st.OldestAgeSeconds = time.Since(first).Seconds()
	}
	writeJSON(w, http.StatusOK, st)
}

// deadFilter reads ?namespace= and ?function= (a function alone means the
// default namespace).
func deadFilter(r *http.Request) queue.Filter {
	f := queue.Filter{Namespace: r.URL.Query().Get("namespace"), Name: r.URL.Query().Get("function")}
	if f.Name != "" && f.Namespace == "" {
		f.Name, f.Namespace = splitFunction(f.Name)
	}
	if f.Namespace == "" && f.Name != "" {
		f.Namespace = registry.DefaultNamespace
	}
	return f
}

func wireDeadLetter(d queue.DeadLetter) client.DeadLetter {
	return client.DeadLetter{
		CallID: d.Request.CallID, Function: d.Request.Name, Namespace: d.Request.Namespace,
		Method: d.Request.Method, Path: d.Request.Path, Query: d.Request.RawQuery, Header: d.Request.Header,
		CallbackURL: d.Request.CallbackURL, Source: d.Request.Source, EnqueuedAt: d.Request.EnqueuedAt,
		FailedAt: d.Failure.FailedAt, Attempts: d.Failure.Attempts, Status: d.Failure.Status,
		Reason: d.Failure.Reason, Response: d.Failure.Response, BodySize: d.BodySize, Body: d.Request.Body,
	}
}

func (g *Gateway) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	list, err := g.cfg.Async.DeadLetters(r.Context(), deadFilter(r), 0)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	out := make([]client.DeadLetter, 0, len(list))
	for _, d := range list {
		out = append(out, wireDeadLetter(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) deadLetterError(w http.ResponseWriter, err error) {
	if errors.Is(err, queue.ErrNotFound) {
		jsonError(w, http.StatusNotFound, CodeNotFound, err.Error())
		return
	}
	jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
}

func (g *Gateway) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	d, err := g.cfg.Async.DeadLetter(r.Context(), r.PathValue("id"))
	if err != nil {
		g.deadLetterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wireDeadLetter(d))
}

func (g *Gateway) redriveDeadLetter(w http.ResponseWriter, r *http.Request) {
	if err := g.cfg.Async.Redrive(r.Context(), r.PathValue("id")); err != nil {
		g.deadLetterError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (g *Gateway) purgeDeadLetter(w http.ResponseWriter, r *http.Request) {
	if err := g.cfg.Async.Purge(r.Context(), r.PathValue("id")); err != nil {
		g.deadLetterError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) redriveDeadLetters(w http.ResponseWriter, r *http.Request) {
	n, err := g.cfg.Async.RedriveAll(r.Context(), deadFilter(r))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, client.AsyncCount{Count: n})
}

func (g *Gateway) purgeDeadLetters(w http.ResponseWriter, r *http.Request) {
	n, err := g.cfg.Async.PurgeAll(r.Context(), deadFilter(r))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, client.AsyncCount{Count: n})
}
