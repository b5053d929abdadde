package queue

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigilhq/sigil/internal/registry"
)

// Annotations that tune a function's async behaviour.
const (
	// AnnotationMaxAttempts is how many times a call is run before it is
	// dead-lettered (the first run included). Default 5.
	AnnotationMaxAttempts = "com.sigil.async.max-attempts"
	// AnnotationBackoffInitial is the delay before the first retry, a Go
	// duration. Default 500ms; it doubles per retry.
	AnnotationBackoffInitial = "com.sigil.async.backoff-initial"
	// AnnotationBackoffMax caps the delay between retries. Default 30s.
	AnnotationBackoffMax = "com.sigil.async.backoff-max"
	// AnnotationRetryCodes lists the statuses that are retried,
	// comma-separated. Default "408,429,500,502,503,504" (504 is also what a
	// timed-out run answers).
	AnnotationRetryCodes = "com.sigil.async.retry-codes"
	// AnnotationMaxInflight bounds the calls of one function the workers
	// run at once, per replica. The env var max_inflight (of-watchdog's
	// name) is read when the annotation is absent. Default: unbounded (the
	// worker pool bounds it).
	AnnotationMaxInflight = "com.sigil.async.max-inflight"
)

// Policy is a function's retry and concurrency policy.
type Policy struct {
	MaxAttempts    int
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	RetryCodes     map[int]bool
	// MaxConcurrent bounds running calls of the function; 0 is unbounded.
	MaxConcurrent int
}

// DefaultPolicy is used for whatever a function does not set.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:    5,
		BackoffInitial: 500 * time.Millisecond,
		BackoffMax:     30 * time.Second,
		RetryCodes:     codes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
}

func codes(cs ...int) map[int]bool {
	m := make(map[int]bool, len(cs))
	for _, c := range cs {
		m[c] = true
	}
	return m
}

// PolicyFor reads f's annotations over the defaults. Invalid values are
// ignored (the default stands), so a typo never stops calls from running.
func PolicyFor(f *registry.Function) Policy {
	p := DefaultPolicy()
	a := f.Annotations
	if n, err := strconv.Atoi(a[AnnotationMaxAttempts]); err == nil && n >= 1 {
		p.MaxAttempts = min(n, 100)
	}
	if d, err := time.ParseDuration(a[AnnotationBackoffInitial]); err == nil && d > 0 {
		p.BackoffInitial = d
	}
	if d, err := time.ParseDuration(a[AnnotationBackoffMax]); err == nil && d > 0 {
		p.BackoffMax = d
	}
	if p.BackoffMax < p.BackoffInitial {
		p.BackoffMax = p.BackoffInitial
	}
	if v, ok := a[AnnotationRetryCodes]; ok {
		if cs, ok := parseCodes(v); ok {
			p.RetryCodes = cs
		}
	}
	inflight := a[AnnotationMaxInflight]
	if inflight == "" {
		inflight = f.EnvVars["max_inflight"]
	}
	if n, err := strconv.Atoi(strings.TrimSpace(inflight)); err == nil && n > 0 {
		p.MaxConcurrent = n * int(max(f.Replicas, 1))
	}
	return p
}

func parseCodes(s string) (map[int]bool, bool) {
	m := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		c, err := strconv.Atoi(part)
		if err != nil || c < 100 || c > 599 {
			return nil, false
		}
		m[c] = true
	}
	return m, true
}

// Retriable reports whether a run that answered status is worth another try.
func (p Policy) Retriable(status int) bool { return p.RetryCodes[status] }

// Backoff is the delay before attempt next (2 for the first retry):
// initial·2^(next-2), capped at max, with "equal jitter" — a uniform draw in
// [d/2, d] — so retries of calls that failed together spread out.
func (p Policy) Backoff(next int) time.Duration {
	return backoff(p.BackoffInitial, p.BackoffMax, next-1)
}

// backoff is initial·2^(retry-1) capped at max, jittered into [d/2, d].
func backoff(initial, maxD time.Duration, retry int) time.Duration {
	d := initial
	for i := 1; i < retry && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
