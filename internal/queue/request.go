package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Request is one accepted asynchronous call: the HTTP request as the
// gateway read it, plus where to report the result.
type Request struct {
	CallID    string `json:"callId"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Route is the "{name}[.{namespace}]" segment the function was
	// addressed by; "" means "name.namespace".
	Route         string      `json:"route,omitempty"`
	Method        string      `json:"method"`
	Path          string      `json:"path,omitempty"`
	RawPath       string      `json:"rawPath,omitempty"`
	RawQuery      string      `json:"rawQuery,omitempty"`
	Host          string      `json:"host,omitempty"`
	Proto         string      `json:"proto,omitempty"`
	RemoteAddr    string      `json:"remoteAddr,omitempty"`
	TLS           bool        `json:"tls,omitempty"`
	ContentLength int64       `json:"contentLength"`
	Header        http.Header `json:"header,omitempty"`
	CallbackURL   string      `json:"callbackUrl,omitempty"`
	EnqueuedAt    time.Time   `json:"enqueuedAt"`
	// Source says what produced the call: "http", "cron", "nats".
	Source string `json:"source,omitempty"`

	Body []byte `json:"-"`
}

// Label is "name.namespace", the metrics label of the function.
func (r *Request) Label() string { return r.Name + "." + r.Namespace }

// Message headers of a queued call. The request itself travels as JSON in
// HdrRequest and the body as the message data (or in the object store).
const (
	HdrRequest    = "Sigil-Request"
	HdrAttempt    = "Sigil-Attempt"     // 1-based attempt this message is for
	HdrNotBefore  = "Sigil-Not-Before"  // unix nanos: do not run before
	HdrBodyObject = "Sigil-Body-Object" // body kept in the object store under this name
	HdrBodySize   = "Sigil-Body-Size"
	HdrFailure    = "Sigil-Failure" // dead letters: JSON Failure
)

var callIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// ValidCallID reports whether id can name a call (it becomes a subject
// token and an object name).
func ValidCallID(id string) bool { return callIDRE.MatchString(id) }

// job is a decoded queue message.
type job struct {
	req       Request
	attempt   int
	notBefore time.Time
	bodyObj   string
	bodySize  int64
	// seq is the stream sequence of the message (0 when not delivered):
	// with the call id it names this run's follow-up messages, so JetStream
	// de-duplicates a crash's repeat but never a re-driven call's new runs.
	seq uint64
}

func (j *job) encode(subject string) (*nats.Msg, error) {
	meta, err := json.Marshal(&j.req)
	if err != nil {
		return nil, fmt.Errorf("encode call %s: %w", j.req.CallID, err)
	}
	m := nats.NewMsg(subject)
	m.Header.Set(HdrRequest, string(meta))
	m.Header.Set(HdrAttempt, strconv.Itoa(max(j.attempt, 1)))
	if !j.notBefore.IsZero() {
		m.Header.Set(HdrNotBefore, strconv.FormatInt(j.notBefore.UnixNano(), 10))
	}
	m.Header.Set(HdrBodySize, strconv.FormatInt(j.bodySize, 10))
	if j.bodyObj != "" {
		m.Header.Set(HdrBodyObject, j.bodyObj)
	} else {
		m.Data = j.req.Body
	}
	return m, nil
}

func decodeJob(h nats.Header, data []byte) (*job, error) {
	j := &job{attempt: 1}
	if err := json.Unmarshal([]byte(h.Get(HdrRequest)), &j.req); err != nil {
		return nil, fmt.Errorf("decode queued call: %w", err)
	}
	if !ValidCallID(j.req.CallID) || j.req.Name == "" || j.req.Namespace == "" {
		return nil, fmt.Errorf("decode queued call: missing call id or function")
	}
	if v := h.Get(HdrAttempt); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			j.attempt = n
		}
	}
	if v := h.Get(HdrNotBefore); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			j.notBefore = time.Unix(0, n)
		}
	}
	j.bodySize, _ = strconv.ParseInt(h.Get(HdrBodySize), 10, 64)
	j.bodyObj = h.Get(HdrBodyObject)
	if j.bodyObj == "" {
		j.req.Body = data
	}
	return j, nil
}
