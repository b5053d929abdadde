package queue

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ValidateCallbackURL accepts absolute http and https URLs only.
func ValidateCallbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("X-Callback-Url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("X-Callback-Url %q: want an absolute http or https URL", s)
	}
	return nil
}

// hopHeaders are not copied from the function's answer to the callback.
var hopHeaders = []string{"Connection", "Content-Length", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade"}

// callback posts the result to the call's X-Callback-Url, retrying with
// backoff on transport errors, 408, 429 and 5xx. It reports whether the run
// was interrupted by shutdown before an answer (then the caller must not ack).
func (q *Queue) callback(ctx context.Context, j *job, res Result, pol Policy) (interrupted bool) {
	name := j.req.Route
	if name == "" {
		name = j.req.Label()
	}
	status := res.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	hdr := http.Header{}
	for k, v := range res.Header {
		hdr[k] = append([]string(nil), v...)
	}
	for _, k := range hopHeaders {
		hdr.Del(k)
	}
	hdr.Set("X-Call-Id", j.req.CallID)
	hdr.Set("X-Function-Status", strconv.Itoa(status))
	hdr.Set("X-Function-Name", name)
	hdr.Set("X-Duration-Seconds", strconv.FormatFloat(res.Duration.Seconds(), 'f', 6, 64))
	hdr.Set("X-Retry", strconv.Itoa(j.attempt-1))
	hdr.Set("X-Retry-Max", strconv.Itoa(pol.MaxAttempts-1))
	if hdr.Get("User-Agent") == "" {
		hdr.Set("User-Agent", "sigil-async")
	}
	var last string
	for attempt := 1; attempt <= q.opts.CallbackAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(backoff(q.opts.CallbackBackoff, q.opts.CallbackMaxDelay, attempt-1))
			select {
			case <-ctx.Done():
				t.Stop()
				return true
			case <-t.C:
			}
		}
		code, err := q.postCallback(ctx, j.req.CallbackURL, hdr, res.Body)
		switch {
		case err == nil && code < 300:
			q.m.callbacks.WithLabelValues("delivered").Inc()
			return false
		case err != nil && ctx.Err() != nil:
			return true
		case err != nil:
			last = err.Error()
		default:
			last = "answered " + strconv.Itoa(code)
			if code != http.StatusRequestTimeout && code != http.StatusTooManyRequests && code < 500 {
				attempt = q.opts.CallbackAttempts // refused: retrying will not help
			}
		}
		q.log.Info("async callback failed", "call_id", j.req.CallID, "url", j.req.CallbackURL, "attempt", attempt, "err", last)
	}
	q.m.callbacks.WithLabelValues("failed").Inc()
	q.log.Warn("async callback given up", "call_id", j.req.CallID, "url", j.req.CallbackURL, "attempts", q.opts.CallbackAttempts, "err", last)
	return false
}

func (q *Queue) postCallback(ctx context.Context, target string, hdr http.Header, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, q.opts.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = hdr.Clone()
	resp, err := q.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}
