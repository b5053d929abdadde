package client

import (
	"context"
	"net/http"
)

// Info returns GET /system/info.
func (c *Client) Info(ctx context.Context) (GatewayInfo, error) {
	var info GatewayInfo
	err := c.getJSON(ctx, request{op: "info", method: http.MethodGet, path: "/system/info"}, &info)
	return info, err
}

// Health checks GET /healthz; any 2xx is healthy.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, request{op: "health", method: http.MethodGet, path: "/healthz"})
	return err
}
