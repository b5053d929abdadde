package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// DeployResult says how a deployment was accepted.
type DeployResult struct {
	Method     string // PUT when an existing function was updated, POST when it was created
	StatusCode int    // e.g. 202
	Status     string // e.g. "202 Accepted"
	// LogIndex is the transparency-log index of the deployment record
	// (X-Sigil-Log-Index), or -1 when the server sent none.
	LogIndex int64
}

// Deploy does what faas-cli does: with update it first PUTs
// /system/functions and falls back to POST when the server answers 404 (the
// function does not exist yet); without update it only POSTs.
func (c *Client) Deploy(ctx context.Context, d FunctionDeployment, update bool) error {
	_, err := c.DeployFunction(ctx, d, update)
	return err
}

// DeployFunction is Deploy that also reports which request succeeded and its
// status.
func (c *Client) DeployFunction(ctx context.Context, d FunctionDeployment, update bool) (DeployResult, error) {
	if update {
		res, err := c.deploy(ctx, http.MethodPut, d)
		if err == nil || !IsNotFound(err) {
			return res, err
		}
	}
	return c.deploy(ctx, http.MethodPost, d)
}

func (c *Client) deploy(ctx context.Context, method string, d FunctionDeployment) (DeployResult, error) {
	body, err := jsonBody(d)
	if err != nil {
		return DeployResult{}, err
	}
	resp, err := c.send(ctx, request{op: "deploy", method: method, path: "/system/functions", body: body})
	if err != nil {
		return DeployResult{}, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	code := resp.StatusCode
	idx := int64(-1)
	if v := resp.Header.Get("X-Sigil-Log-Index"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			idx = n
		}
	}
	return DeployResult{
		Method:     method,
		StatusCode: code,
		Status:     strconv.Itoa(code) + " " + http.StatusText(code),
		LogIndex:   idx,
	}, nil
}

// ListFunctions returns GET /system/functions; an empty namespace means the
// server's default.
func (c *Client) ListFunctions(ctx context.Context, namespace string) ([]FunctionStatus, error) {
	var fns []FunctionStatus
	err := c.getJSON(ctx, request{
		op: "list functions", method: http.MethodGet, path: "/system/functions", query: nsQuery(namespace),
	}, &fns)
	return fns, err
}

// GetFunction returns GET /system/function/{name}?usage=1 (usage=1 as
// faas-cli describe sends it).
func (c *Client) GetFunction(ctx context.Context, name, namespace string) (FunctionStatus, error) {
	q := nsQuery(namespace)
	q.Set("usage", "1")
	var fn FunctionStatus
	err := c.getJSON(ctx, request{
		op: "get function", method: http.MethodGet, path: "/system/function/" + url.PathEscape(name), query: q,
	}, &fn)
	return fn, err
}

// DeleteFunction sends DELETE /system/functions with a DeleteFunctionRequest body.
func (c *Client) DeleteFunction(ctx context.Context, name, namespace string) error {
	body, err := jsonBody(DeleteFunctionRequest{FunctionName: name, Namespace: namespace})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: "remove", method: http.MethodDelete, path: "/system/functions", body: body})
	return err
}

// ScaleFunction sends POST /system/scale-function/{name} with a
// ScaleServiceRequest body; the namespace travels in the body and the query,
// because providers read either.
func (c *Client) ScaleFunction(ctx context.Context, name, namespace string, replicas uint64) error {
	body, err := jsonBody(ScaleServiceRequest{ServiceName: name, Replicas: replicas, Namespace: namespace})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{
		op: "scale", method: http.MethodPost, path: "/system/scale-function/" + url.PathEscape(name),
		query: nsQuery(namespace), body: body,
	})
	return err
}
