package client

import (
	"context"
	"maps"
	"net/http"
	"net/url"
)

// ListNamespaces returns GET /system/namespaces.
func (c *Client) ListNamespaces(ctx context.Context) ([]string, error) {
	var ns []string
	err := c.getJSON(ctx, request{op: "list namespaces", method: http.MethodGet, path: "/system/namespaces"}, &ns)
	return ns, err
}

// GetNamespace returns GET /system/namespace/{name}.
func (c *Client) GetNamespace(ctx context.Context, name string) (FunctionNamespace, error) {
	var ns FunctionNamespace
	err := c.getJSON(ctx, request{
		op: "get namespace", method: http.MethodGet, path: "/system/namespace/" + url.PathEscape(name),
	}, &ns)
	return ns, err
}

// CreateNamespace sends POST /system/namespace/ with the label and
// annotation openfaas=1 added, as the OpenFaaS go-sdk does.
func (c *Client) CreateNamespace(ctx context.Context, ns FunctionNamespace) error {
	ns.Labels = withOpenFaaS(ns.Labels)
	ns.Annotations = withOpenFaaS(ns.Annotations)
	return c.namespace(ctx, "create namespace", http.MethodPost, "/system/namespace/", ns)
}

// UpdateNamespace sends PUT /system/namespace/{name} with the label and
// annotation openfaas=1 added.
func (c *Client) UpdateNamespace(ctx context.Context, ns FunctionNamespace) error {
	ns.Labels = withOpenFaaS(ns.Labels)
	ns.Annotations = withOpenFaaS(ns.Annotations)
	return c.namespace(ctx, "update namespace", http.MethodPut, "/system/namespace/"+url.PathEscape(ns.Name), ns)
}

// DeleteNamespace sends DELETE /system/namespace/{name} with body
// {"name", "labels":{"openfaas":"1"}}.
func (c *Client) DeleteNamespace(ctx context.Context, name string) error {
	ns := FunctionNamespace{Name: name, Labels: withOpenFaaS(nil)}
	return c.namespace(ctx, "remove namespace", http.MethodDelete, "/system/namespace/"+url.PathEscape(name), ns)
}

func (c *Client) namespace(ctx context.Context, op, method, path string, ns FunctionNamespace) error {
	body, err := jsonBody(ns)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: op, method: method, path: path, body: body})
	return err
}

// withOpenFaaS returns a copy of m with openfaas=1 set.
func withOpenFaaS(m map[string]string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out["openfaas"] = "1"
	return out
}
