package cli

import (
	"strings"
	"testing"
)

func TestErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		name       string
		route      string
		ct, body   string
		status     int
		args       []string
		wantStderr string
	}{
		{
			name: "json error from a sigil route", route: "PUT /system/functions", status: 400,
			ct: "application/json", body: `{"error":"image not found: push it with 'sigil push'","code":"image_not_found"}`,
			args:       []string{"deploy", "--image", "nope:1", "--name", "f"},
			wantStderr: "sigil: deploy: 400 Bad Request: image not found: push it with 'sigil push'\n",
		},
		{
			name: "plain-text error from an openfaas route", route: "GET /system/function/f", status: 404,
			ct: "text/plain", body: "function f not found\nsecond line\n",
			args:       []string{"describe", "f"},
			wantStderr: "sigil: get function: 404 Not Found: function f not found\n",
		},
		{
			name: "401 suggests login", route: "GET /system/functions", status: 401,
			ct: "text/plain", body: "invalid credentials\n",
			args:       []string{"list"},
			wantStderr: "sigil: list functions: 401 Unauthorized: invalid credentials (run 'sigil login')\n",
		},
		{
			name:       "unknown flag adds a usage hint",
			args:       []string{"list", "--bogus"},
			wantStderr: "sigil: unknown flag: --bogus\nRun 'sigil list --help' for usage.\n",
		},
		{
			name:       "wrong argument count",
			args:       []string{"describe"},
			wantStderr: "sigil: describe wants 1 argument(s) (NAME), got 0\nRun 'sigil describe --help' for usage.\n",
		},
		{
			name:       "unknown command",
			args:       []string{"nosuch"},
			wantStderr: "sigil: unknown command \"nosuch\" for \"sigil\"\nRun 'sigil --help' for usage.\n",
		},
		{
			name:       "bad abi",
			args:       []string{"push", "testdata/hello.wasm", "--abi", "cgi"},
			wantStderr: "sigil: --abi \"cgi\": want openfaas, wagi or pooled\nRun 'sigil push --help' for usage.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			isolate(t, f.srv.URL)
			if tt.route != "" {
				f.on(tt.route, reply(tt.status, tt.ct, tt.body))
			}
			r := run(t, "", tt.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if r.stderr != tt.wantStderr {
				t.Errorf("stderr %q, want %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

func TestUnreachableGateway(t *testing.T) {
	isolate(t, "http://127.0.0.1:1")
	r := run(t, "", "list")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "sigil: list functions: ") {
		t.Fatalf("%+v", r)
	}
}
