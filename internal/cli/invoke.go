package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigilhq/sigil/pkg/client"
	"github.com/spf13/cobra"
)

func newInvokeCommand(g *globals) *cobra.Command {
	var namespace, method, contentType, path string
	var queries, headers []string
	var async bool
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Call a function with stdin as the body; its body goes to stdout",
		Long: "invoke sends stdin (nothing when stdin is a terminal) to /function/NAME and writes the answer's\n" +
			"body to stdout. A non-2xx answer is printed too, and sigil exits 1. --async queues the call\n" +
			"(/async-function/NAME) and prints its X-Call-Id.",
		Example: "  echo hello | sigil invoke echo\n" +
			"  sigil invoke api -m GET --path /users/1 --query verbose=1 -H Accept=application/json </dev/null\n" +
			"  echo job | sigil invoke worker --async -H X-Callback-Url=http://10.0.0.5:9000/done",
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := parseKV(cmd, "query", queries)
			if err != nil {
				return err
			}
			hdr, err := parseHeaders(cmd, headers)
			if err != nil {
				return err
			}
			if hdr.Get("Content-Type") == "" {
				hdr.Set("Content-Type", contentType)
			}
			body, _, err := readStdin(cmd)
			if err != nil {
				return err
			}
			values := url.Values{}
			for k, v := range q {
				values.Set(k, v)
			}
			c, err := g.client("")
			if err != nil {
				return err
			}
			resp, err := c.Invoke(cmd.Context(), client.InvokeRequest{
				Name: args[0], Namespace: namespace, Method: strings.ToUpper(method), Path: path,
				Query: values, Header: hdr, Body: bytes.NewReader(body), Async: async,
			})
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			out := cmd.OutOrStdout()
			ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
			if async && ok {
				_, _ = io.Copy(io.Discard, resp.Body)
				fmt.Fprintf(cmd.ErrOrStderr(), "Function queued (%s).\n", resp.Status)
				fmt.Fprintln(out, resp.Header.Get("X-Call-Id"))
				return nil
			}
			if _, err := io.Copy(out, resp.Body); err != nil {
				return fmt.Errorf("invoke %s: read answer: %w", args[0], err)
			}
			if !ok {
				return fmt.Errorf("function answered %d", resp.StatusCode)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace (default: the server's)")
	f.StringVarP(&method, "method", "m", http.MethodPost, "HTTP method")
	f.StringVar(&contentType, "content-type", "text/plain", "Content-Type of the body")
	f.StringVar(&path, "path", "", "path after /function/NAME, e.g. /users/1")
	f.StringArrayVar(&queries, "query", nil, "query parameter key=value (repeatable)")
	f.StringArrayVarP(&headers, "header", "H", nil, "request header key=value or 'Key: value' (repeatable)")
	f.BoolVarP(&async, "async", "a", false, "queue the call and print its X-Call-Id")
	return cmd
}

// parseHeaders accepts "Key=value" (faas-cli) and "Key: value" (curl).
func parseHeaders(cmd *cobra.Command, list []string) (http.Header, error) {
	h := http.Header{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if ck, cv, cok := strings.Cut(kv, ":"); cok && (!ok || len(ck) < len(k)) {
			k, v, ok = ck, cv, true
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, usagef(cmd, "--header %q: want Key=value", kv)
		}
		h.Add(k, v)
	}
	return h, nil
}
