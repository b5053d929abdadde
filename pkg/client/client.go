package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to one Sigil (or OpenFaaS) gateway. It is safe for concurrent
// use; configure it with Options at construction and do not change it after.
type Client struct {
	gateway   string
	hc        *http.Client
	invokeHC  *http.Client
	user      string
	password  string
	basicAuth bool
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithBasicAuth sends HTTP basic credentials on every /system/* request.
// Invocations (/function/*) never carry them: functions are public, as in
// OpenFaaS.
func WithBasicAuth(user, password string) Option {
	return func(c *Client) {
		c.user, c.password, c.basicAuth = user, password, true
	}
}

// WithHTTPClient replaces http.DefaultClient. Invocations use a shallow copy
// of it whose CheckRedirect never follows redirects.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.hc = h
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the gateway at gateway, e.g.
// "http://127.0.0.1:8080". Trailing slashes are trimmed.
func New(gateway string, opts ...Option) *Client {
	c := &Client{
		gateway:   strings.TrimRight(gateway, "/"),
		hc:        http.DefaultClient,
		userAgent: "sigil-client",
	}
	for _, o := range opts {
		o(c)
	}
	inv := *c.hc
	inv.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.invokeHC = &inv
	return c
}

// Gateway returns the gateway URL the client talks to, without a trailing slash.
func (c *Client) Gateway() string { return c.gateway }

// request describes one call to a /system/* route.
type request struct {
	op          string // for error messages: "deploy", "list functions", ...
	method      string
	path        string // escaped path, starting with "/"
	query       url.Values
	body        io.Reader
	contentType string
}

// jsonBody marshals v for a request body.
func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return bytes.NewReader(b), nil
}

func (c *Client) url(path string, q url.Values) string {
	u := c.gateway + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// send performs r and returns the response when its status is 2xx; any other
// status is turned into an *Error and the body is closed.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, c.url(r.path, r.query), r.body)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", r.op, err)
	}
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.basicAuth {
		req.SetBasicAuth(c.user, c.password)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, readError(r.op, resp)
	}
	return resp, nil
}

// do performs r, discards a successful body and returns the status code.
func (c *Client) do(ctx context.Context, r request) (int, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// getJSON performs r and decodes a successful JSON body into out.
func (c *Client) getJSON(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decode response: %w", r.op, err)
	}
	return nil
}

// nsQuery returns ?namespace=ns, or nothing for the default namespace.
func nsQuery(ns string) url.Values {
	q := url.Values{}
	if ns != "" {
		q.Set("namespace", ns)
	}
	return q
}
