package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sigilhq/sigil/internal/queue"
)

// asyncRoutes registers the async routes when the node has a queue.
// /async-function/ is public like /function/; dead letters are system
// routes (sys adds basic auth).
func (g *Gateway) asyncRoutes(mux *http.ServeMux, sys, open func(string, http.HandlerFunc)) {
	if g.cfg.Async == nil {
		return
	}
	open("POST /async-function/{fn}", g.asyncInvoke)
	open("POST /async-function/{fn}/{rest...}", g.asyncInvoke)
	open("DELETE /async-function/{id}", g.asyncCancel)

	sys("GET /system/async/queue", g.asyncQueue)
	sys("GET /system/async/dead-letters", g.listDeadLetters)
	sys("DELETE /system/async/dead-letters", g.purgeDeadLetters)
	sys("POST /system/async/dead-letters/redrive", g.redriveDeadLetters)
	sys("GET /system/async/dead-letters/{id}", g.getDeadLetter)
	sys("DELETE /system/async/dead-letters/{id}", g.purgeDeadLetter)
	sys("POST /system/async/dead-letters/{id}/redrive", g.redriveDeadLetter)
}

// asyncInvoke serves POST /async-function/{name}[.{namespace}][/{path}]: it
// answers 202 with X-Call-Id once the request is stored in JetStream.
func (g *Gateway) asyncInvoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fnSeg := r.PathValue("fn")
	name, ns := splitFunction(fnSeg)
	if _, ok := g.cfg.Registry.Function(ns, name); !ok {
		textError(w, http.StatusNotFound, fmt.Sprintf("function not found: %s.%s", name, ns))
		return
	}
	callID := r.Header.Get("X-Call-Id")
	if callID == "" {
		callID = uuid.NewString()
	} else if !queue.ValidCallID(callID) {
		textError(w, http.StatusBadRequest, "X-Call-Id must be 1-100 characters of [A-Za-z0-9_-]")
		return
	}
	callback := r.Header.Get("X-Callback-Url")
	if callback != "" {
		if err := queue.ValidateCallbackURL(callback); err != nil {
			textError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	limit := g.cfg.Async.MaxBodyBytes()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			textError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the %d byte async limit", limit))
			return
		}
		textError(w, http.StatusBadRequest, "read request body: "+err.Error())
		return
	}
	setForwarded(r)
	c := httpCallRequest(r, "/async-function/", fnSeg, body)
	req := &queue.Request{
		CallID: callID, Namespace: ns, Name: name, Route: fnSeg,
		Method: c.Method, Path: c.Path, RawPath: c.RawPath, RawQuery: c.RawQuery,
		Host: c.Host, Proto: c.Proto, RemoteAddr: c.RemoteAddr, TLS: c.TLS,
		ContentLength: c.ContentLength, Header: r.Header, Body: body,
		CallbackURL: callback, EnqueuedAt: start.UTC(), Source: "http",
	}
	if _, err := g.cfg.Async.Enqueue(r.Context(), req); err != nil {
		g.log.Error("async enqueue failed", "function", name+"."+ns, "call_id", callID, "err", err)
		textError(w, http.StatusServiceUnavailable, "could not queue the call: "+firstLine(err.Error()))
		return
	}
	h := w.Header()
	h.Set("X-Call-Id", callID)
	h.Set("X-Start-Time", strconv.FormatInt(start.UnixNano(), 10))
	w.WriteHeader(http.StatusAccepted)
}

// asyncCancel serves DELETE /async-function/{call-id}.
func (g *Gateway) asyncCancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := g.cfg.Async.Cancel(r.Context(), id)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, queue.ErrNotFound):
		textError(w, http.StatusNotFound, "no queued call with id "+id)
	case errors.Is(err, queue.ErrRunning):
		textError(w, http.StatusConflict, "call "+id+" is running and cannot be canceled")
	default:
		textError(w, http.StatusInternalServerError, firstLine(err.Error()))
	}
}

// AsyncInvoker is how the queue's workers (and triggers, through the
// queue) run calls: through Call, like a sync request.
func (g *Gateway) AsyncInvoker() queue.Invoker {
	return queue.InvokerFunc(func(ctx context.Context, req *queue.Request, attempt int) queue.Result {
		hdr := req.Header.Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("X-Retry", strconv.Itoa(attempt-1))
		c := &CallRequest{
			Method: req.Method, Proto: req.Proto, Host: req.Host, Path: req.Path, RawPath: req.RawPath,
			RawQuery: req.RawQuery, Header: hdr, ContentLength: req.ContentLength, RemoteAddr: req.RemoteAddr,
			TLS: req.TLS, Route: req.Route, Body: req.Body, CallID: req.CallID,
		}
		if c.ContentLength < 0 && c.Header.Get("Transfer-Encoding") == "" {
			c.ContentLength = int64(len(req.Body))
		}
		res, err := g.Call(ctx, req.Namespace, req.Name, c)
		if err != nil {
			return queue.Result{Status: http.StatusNotFound, Reason: "not_found",
				Body: []byte(fmt.Sprintf("function not found: %s\n", req.Label()))}
		}
		return queue.Result{Status: res.Status, Header: res.Header, Body: res.Body, Duration: res.Duration, Reason: res.Reason}
	})
}
