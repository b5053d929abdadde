package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// InvokeRequest describes one call to a function.
type InvokeRequest struct {
	Name      string
	Namespace string      // empty: the server's default namespace (no ".ns" suffix)
	Method    string      // empty: POST, like faas-cli invoke; Async always POSTs
	Path      string      // appended after /function/{name}; "/" is added when missing
	Query     url.Values  // encoded as the query string
	Header    http.Header // copied onto the request
	Body      io.Reader
	Async     bool // use /async-function/ (answers 202 with X-Call-Id)
}

// FunctionURL returns the URL of a function:
// <gateway>/function/<name>[.<namespace>].
func (c *Client) FunctionURL(name, namespace string) string {
	return c.gateway + "/function/" + qualified(name, namespace)
}

// AsyncFunctionURL returns <gateway>/async-function/<name>[.<namespace>].
func (c *Client) AsyncFunctionURL(name, namespace string) string {
	return c.gateway + "/async-function/" + qualified(name, namespace)
}

func qualified(name, namespace string) string {
	if namespace == "" {
		return name
	}
	return name + "." + namespace
}

// Invoke calls /function/{name}[.{namespace}]{path}?{query} (or
// /async-function/ when req.Async) and returns the raw response, whatever
// its status: the caller reads and closes the body. Redirects are never
// followed, so a function's 302 reaches the caller as 302. No credentials
// are sent: functions are public.
func (c *Client) Invoke(ctx context.Context, req InvokeRequest) (*http.Response, error) {
	if req.Name == "" {
		return nil, fmt.Errorf("invoke: function name is empty")
	}
	prefix, method := "/function/", req.Method
	if req.Async {
		prefix, method = "/async-function/", http.MethodPost
	}
	if method == "" {
		method = http.MethodPost
	}
	p := req.Path
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := c.gateway + prefix + url.PathEscape(qualified(req.Name, req.Namespace)) + (&url.URL{Path: p}).EscapedPath()
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, method, u, req.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: build request: %w", req.Name, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if c.userAgent != "" && hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.invokeHC.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", req.Name, err)
	}
	return resp, nil
}
