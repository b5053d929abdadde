package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// LogsRequest selects the log lines of one function.
type LogsRequest struct {
	Name      string
	Namespace string
	Instance  string    // optional: one instance only
	Tail      int       // last N lines; <= 0 means all (sent as given, faas-cli sends -1)
	Since     time.Time // zero: no lower bound
	Follow    bool      // keep the stream open for new lines
}

// Logs streams GET /system/logs (application/x-ndjson) and calls fn for each
// message in order. It returns when the server ends the stream, ctx is
// cancelled, or fn returns an error (which Logs returns).
func (c *Client) Logs(ctx context.Context, req LogsRequest, fn func(LogMessage) error) error {
	q := nsQuery(req.Namespace)
	q.Set("name", req.Name)
	q.Set("tail", strconv.Itoa(req.Tail))
	q.Set("follow", strconv.FormatBool(req.Follow))
	if req.Instance != "" {
		q.Set("instance", req.Instance)
	}
	if !req.Since.IsZero() {
		q.Set("since", req.Since.UTC().Format(time.RFC3339))
	}
	resp, err := c.send(ctx, request{op: "logs", method: http.MethodGet, path: "/system/logs", query: q})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for {
		line, rerr := br.ReadBytes('\n')
		if line = bytes.TrimSpace(line); len(line) > 0 {
			var m LogMessage
			if err := json.Unmarshal(line, &m); err != nil {
				return fmt.Errorf("logs: decode line %q: %w", truncate(line, 80), err)
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("logs: read stream: %w", rerr)
		}
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
