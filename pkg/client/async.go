package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// DeadLetter is an async call that failed every attempt
// (GET /system/async/dead-letters[/{call-id}]).
type DeadLetter struct {
	CallID      string              `json:"callId"`
	Function    string              `json:"function"`
	Namespace   string              `json:"namespace"`
	Method      string              `json:"method"`
	Path        string              `json:"path,omitempty"`
	Query       string              `json:"query,omitempty"`
	Header      map[string][]string `json:"header,omitempty"`
	CallbackURL string              `json:"callbackUrl,omitempty"`
	Source      string              `json:"source,omitempty"`
	EnqueuedAt  time.Time           `json:"enqueuedAt"`
	FailedAt    time.Time           `json:"failedAt"`
	Attempts    int                 `json:"attempts"`
	Status      int                 `json:"status"`
	Reason      string              `json:"reason,omitempty"`
	// Response is the start of the last answer's body (at most 1 KiB).
	Response string `json:"response,omitempty"`
	BodySize int64  `json:"bodySize"`
	// Body is the request body; only GET of one dead letter fills it.
	Body []byte `json:"body,omitempty"`
}

// AsyncCount answers the bulk dead-letter operations.
type AsyncCount struct {
	Count int `json:"count"`
}

// QueueStatus is GET /system/async/queue.
type QueueStatus struct {
	Depth            uint64  `json:"depth"`
	OldestAgeSeconds float64 `json:"oldestAgeSeconds"`
}

// DeadLetterFilter narrows bulk operations. Both empty: every dead letter;
// Function without Namespace means the server's default namespace.
type DeadLetterFilter struct {
	Namespace string
	Function  string
}

func (f DeadLetterFilter) query() url.Values {
	q := url.Values{}
	if f.Namespace != "" {
		q.Set("namespace", f.Namespace)
	}
	if f.Function != "" {
		q.Set("function", f.Function)
	}
	return q
}

// InvokeAsync queues a call (POST /async-function/...) and returns its call
// id. callbackURL, when set, becomes X-Callback-Url.
func (c *Client) InvokeAsync(ctx context.Context, req InvokeRequest, callbackURL string) (string, error) {
	req.Async = true
	if callbackURL != "" {
		req.Header = req.Header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("X-Callback-Url", callbackURL)
	}
	resp, err := c.Invoke(ctx, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", readError("invoke "+req.Name+" async", resp)
	}
	return resp.Header.Get("X-Call-Id"), nil
}

// CancelAsync removes a queued call (DELETE /async-function/{call-id}).
// A running call answers 409, an unknown or finished one 404.
func (c *Client) CancelAsync(ctx context.Context, callID string) error {
	_, err := c.do(ctx, request{op: "cancel " + callID, method: http.MethodDelete,
		path: "/async-function/" + url.PathEscape(callID)})
	return err
}

// AsyncQueue reports the queue's depth and the age of its oldest call.
func (c *Client) AsyncQueue(ctx context.Context) (QueueStatus, error) {
	var st QueueStatus
	err := c.getJSON(ctx, request{op: "async queue", method: http.MethodGet, path: "/system/async/queue"}, &st)
	return st, err
}

// DeadLetters lists dead letters, oldest first.
func (c *Client) DeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, error) {
	var out []DeadLetter
	err := c.getJSON(ctx, request{op: "list dead letters", method: http.MethodGet,
		path: "/system/async/dead-letters", query: f.query()}, &out)
	return out, err
}

// DeadLetter returns one dead letter with its request body.
func (c *Client) DeadLetter(ctx context.Context, callID string) (DeadLetter, error) {
	var d DeadLetter
	err := c.getJSON(ctx, request{op: "inspect dead letter " + callID, method: http.MethodGet,
		path: "/system/async/dead-letters/" + url.PathEscape(callID)}, &d)
	return d, err
}

// RedriveDeadLetter queues a dead letter again with fresh attempts.
func (c *Client) RedriveDeadLetter(ctx context.Context, callID string) error {
	_, err := c.do(ctx, request{op: "redrive " + callID, method: http.MethodPost,
		path: "/system/async/dead-letters/" + url.PathEscape(callID) + "/redrive"})
	return err
}

// RedriveDeadLetters re-drives every dead letter matching f.
func (c *Client) RedriveDeadLetters(ctx context.Context, f DeadLetterFilter) (int, error) {
	var n AsyncCount
	err := c.getJSON(ctx, request{op: "redrive dead letters", method: http.MethodPost,
		path: "/system/async/dead-letters/redrive", query: f.query()}, &n)
	return n.Count, err
}

// PurgeDeadLetter deletes one dead letter.
func (c *Client) PurgeDeadLetter(ctx context.Context, callID string) error {
	_, err := c.do(ctx, request{op: "purge " + callID, method: http.MethodDelete,
		path: "/system/async/dead-letters/" + url.PathEscape(callID)})
	return err
}

// PurgeDeadLetters deletes every dead letter matching f.
func (c *Client) PurgeDeadLetters(ctx context.Context, f DeadLetterFilter) (int, error) {
	var n AsyncCount
	err := c.getJSON(ctx, request{op: "purge dead letters", method: http.MethodDelete,
		path: "/system/async/dead-letters", query: f.query()}, &n)
	return n.Count, err
}
