package client

import (
	"context"
	"net/http"
)

// ListSecrets returns GET /system/secrets (names and namespaces only).
func (c *Client) ListSecrets(ctx context.Context, namespace string) ([]Secret, error) {
	var ss []Secret
	err := c.getJSON(ctx, request{
		op: "list secrets", method: http.MethodGet, path: "/system/secrets", query: nsQuery(namespace),
	}, &ss)
	return ss, err
}

// CreateSecret sends POST /system/secrets.
func (c *Client) CreateSecret(ctx context.Context, s Secret) error {
	return c.secret(ctx, "create secret", http.MethodPost, s)
}

// UpdateSecret sends PUT /system/secrets.
func (c *Client) UpdateSecret(ctx context.Context, s Secret) error {
	return c.secret(ctx, "update secret", http.MethodPut, s)
}

// DeleteSecret sends DELETE /system/secrets with body {"name","namespace"}.
func (c *Client) DeleteSecret(ctx context.Context, name, namespace string) error {
	return c.secret(ctx, "remove secret", http.MethodDelete, Secret{Name: name, Namespace: namespace})
}

func (c *Client) secret(ctx context.Context, op, method string, s Secret) error {
	body, err := jsonBody(s)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: op, method: method, path: "/system/secrets", body: body})
	return err
}
