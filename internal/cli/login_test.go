package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoginStoresCredentialsAndCommandsUseThem(t *testing.T) {
	f := newFake(t)
	f.requireAuth("admin", "s3cret")
	f.on("GET /system/functions", reply(200, "application/json", `[]`))
	cfg := isolate(t, f.srv.URL)

	r := run(t, "wrong\n", "login", "--password-stdin")
	if r.code != 1 || r.stderr != "sigil: login to "+f.srv.URL+": list functions: 401 Unauthorized: invalid credentials\n" {
		t.Fatalf("wrong password: %+v", r)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Fatalf("config written after a failed login: %v", err)
	}

	r = mustRun(t, "s3cret\n", "login", "--username", "admin", "--password-stdin")
	if r.stdout != "Credentials saved for admin "+f.srv.URL+" in "+cfg+"\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	st, err := os.Stat(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(cfg)); dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode %v, want 0700", dst.Mode().Perm())
	}
	b, _ := os.ReadFile(cfg)
	token := base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	if want := "auths:\n    - gateway: " + f.srv.URL + "\n      auth: basic\n      token: " + token + "\n"; string(b) != want {
		t.Errorf("config:\n%s\nwant:\n%s", b, want)
	}

	mustRun(t, "", "list")
	reqs := f.requests()
	if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Basic "+token {
		t.Errorf("list sent Authorization %q", got)
	}

	// Another gateway gets no credentials.
	other := newFake(t)
	other.on("GET /system/functions", reply(200, "application/json", `[]`))
	mustRun(t, "", "list", "-g", other.srv.URL)
	if got := other.requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("credentials leaked to another gateway: %q", got)
	}

	r = mustRun(t, "", "logout")
	if r.stdout != "Credentials removed for "+f.srv.URL+"\n" {
		t.Errorf("logout stdout %q", r.stdout)
	}
	r = run(t, "", "list")
	if r.code != 1 || !strings.HasSuffix(r.stderr, "(run 'sigil login')\n") {
		t.Errorf("list after logout: %+v", r)
	}
	if r = run(t, "", "logout"); r.code != 1 || r.stderr != "sigil: logout: no credentials stored for "+f.srv.URL+"\n" {
		t.Errorf("second logout: %+v", r)
	}
}

func TestLoginPasswordFlagWarns(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/functions", reply(200, "application/json", `[]`))
	isolate(t, f.srv.URL)
	r := mustRun(t, "", "login", "-p", "pw")
	if !strings.HasPrefix(r.stderr, "WARNING!") {
		t.Errorf("stderr %q", r.stderr)
	}
	if r := run(t, "", "login"); r.code != 1 || !strings.HasPrefix(r.stderr, "sigil: give --password or --password-stdin\n") {
		t.Errorf("no password: %+v", r)
	}
}

func TestResolveGateway(t *testing.T) {
	tests := []struct {
		name, flag, yaml, sigilURL, openfaasURL, want string
	}{
		{"default", "", "", "", "", "http://127.0.0.1:8080"},
		{"OPENFAAS_URL", "", "", "", "http://of:8080/", "http://of:8080"},
		{"SIGIL_URL beats OPENFAAS_URL", "", "", "http://sigil:8080", "http://of:8080", "http://sigil:8080"},
		{"yaml beats env", "", "http://Yaml:8080//", "http://sigil:8080", "", "http://yaml:8080"},
		{"flag beats all", "HTTP://Flag:9000/", "http://yaml:8080", "http://sigil:8080", "http://of:8080", "http://flag:9000"},
		{"bare host gets http", "10.0.0.2:8080", "", "", "", "http://10.0.0.2:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SIGIL_URL", tt.sigilURL)
			t.Setenv("OPENFAAS_URL", tt.openfaasURL)
			if got := resolveGateway(tt.flag, tt.yaml); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGatewayFromEnvironment(t *testing.T) {
	f := newFake(t)
	f.on("GET /system/functions", reply(200, "application/json", `[]`))
	isolate(t, "")
	t.Setenv("OPENFAAS_URL", f.srv.URL+"/")
	mustRun(t, "", "list")
	if n := len(f.requests()); n != 1 {
		t.Fatalf("OPENFAAS_URL gateway got %d requests", n)
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("SET", "v")
	t.Setenv("EMPTY", "")
	tests := []struct{ in, want string }{
		{"${SET}", "v"},
		{"$SET/x", "v/x"},
		{"${UNSET_XYZ}", ""},
		{"${UNSET_XYZ:-d}", "d"},
		{"${EMPTY:-d}", "d"},
		{"${EMPTY-d}", ""},
		{"${UNSET_XYZ-d}", "d"},
		{"${SET:-d}", "v"},
		{"no vars", "no vars"},
	}
	for _, tt := range tests {
		if got := expandEnv(tt.in); got != tt.want {
			t.Errorf("expandEnv(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
