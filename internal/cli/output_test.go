package cli

import (
	"strings"
	"testing"
)

const functionsJSON = `[
 {"name":"zeta","image":"zeta:1","namespace":"openfaas-fn","replicas":1,"availableReplicas":1,"invocationCount":1234,"digest":"sha256:2222","abi":"wagi"},
 {"name":"env-fn","image":"docker.io/functions/alpine:latest","namespace":"openfaas-fn","invocationCount":3,"replicas":2,"availableReplicas":2,"digest":"sha256:1111","abi":"openfaas"},
 {"name":"cold","image":"cold:1"}
]`

const envFnStatus = `{"name":"env-fn","image":"docker.io/functions/alpine:latest","namespace":"openfaas-fn",
 "envProcess":"env","envVars":{"custom":"1","b":"2"},"secrets":["s1"],"labels":{"a":"b"},"annotations":{"x":"y"},
 "limits":{"memory":"20Mi","cpu":"100m"},"invocationCount":3,"replicas":1,"availableReplicas":1,
 "createdAt":"2026-11-22T07:54:34Z","digest":"sha256:1111","abi":"openfaas"}`

func TestListAndDescribeGolden(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("GET /system/functions", reply(200, "application/json", functionsJSON))
	f.on("GET /system/function/env-fn", reply(200, "application/json", envFnStatus))
	f.on("GET /system/function/cold", reply(200, "application/json", `{"name":"cold","image":"cold:1"}`))
	tests := []struct {
		golden string
		args   []string
	}{
		{"list.golden", []string{"list"}},
		{"list-verbose.golden", []string{"list", "-v"}},
		{"list-quiet.golden", []string{"list", "-q"}},
		{"describe.golden", []string{"describe", "env-fn"}},
		{"describe-namespace.golden", []string{"describe", "env-fn", "-n", "openfaas-fn"}},
		{"describe-not-ready.golden", []string{"describe", "cold"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r := mustRun(t, "", tt.args...)
			golden(t, tt.golden, strings.ReplaceAll(r.stdout, f.srv.URL, "GATEWAY"))
		})
	}
	want := "GET /system/functions\nGET /system/functions\nGET /system/functions\n" +
		"GET /system/function/env-fn?usage=1\nGET /system/function/env-fn?namespace=openfaas-fn&usage=1\n" +
		"GET /system/function/cold?usage=1\n"
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
}

func TestLogs(t *testing.T) {
	stream := `{"name":"env-fn","namespace":"openfaas-fn","instance":"a1","timestamp":"2026-11-22T07:54:34Z","text":"hello\n"}` + "\n" +
		`{"name":"env-fn","namespace":"openfaas-fn","instance":"a2","timestamp":"2026-11-22T07:54:35.5Z","text":"world"}` + "\n"
	tests := []struct {
		name      string
		args      []string
		wantQuery string
	}{
		{"like faas-cli --tail=false", []string{"logs", "env-fn", "--tail=false"}, "follow=false&name=env-fn&tail=-1"},
		{"follows by default", []string{"logs", "env-fn"}, "follow=true&name=env-fn&tail=-1"},
		{"lines, since-time, namespace, instance",
			[]string{"logs", "env-fn", "--follow=false", "--lines", "5", "--since-time", "2026-11-22T07:54:34Z", "-n", "ns1", "--instance", "a1"},
			"follow=false&instance=a1&name=env-fn&namespace=ns1&since=2026-11-22T07%3A54%3A34Z&tail=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			isolate(t, f.srv.URL)
			f.on("GET /system/logs", reply(200, "application/x-ndjson", stream))
			r := mustRun(t, "", tt.args...)
			want := "2026-11-22T07:54:34Z env-fn (a1) hello\n2026-11-22T07:54:35Z env-fn (a2) world\n"
			if r.stdout != want {
				t.Errorf("stdout %q, want %q", r.stdout, want)
			}
			if q := f.requests()[0].Query; q != tt.wantQuery {
				t.Errorf("query %q, want %q", q, tt.wantQuery)
			}
		})
	}
}

func TestLogsSinceDuration(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	mustRun(t, "", "logs", "f", "--since", "5m", "--tail=false")
	if q := f.requests()[0].Query; !strings.Contains(q, "&since=") {
		t.Errorf("query %q has no since", q)
	}
	if r := run(t, "", "logs", "f", "--since", "5m", "--since-time", "2026-11-22T07:54:34Z"); r.code != 1 {
		t.Errorf("--since with --since-time accepted: %+v", r)
	}
}

func TestSecrets(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("GET /system/secrets", reply(200, "application/json", `[{"name":"s2"},{"name":"s1","namespace":"openfaas-fn"}]`))
	mustRun(t, "", "secret", "create", "s1", "--from-literal", "hunter2")
	mustRun(t, "hunter3\n", "secret", "update", "s1")
	mustRun(t, "", "secret", "create", "bin", "--from-file", "testdata/hello.wasm", "-n", "team1")
	list := mustRun(t, "", "secret", "list")
	mustRun(t, "", "secret", "remove", "s1")
	mustRun(t, "", "secret", "rm", "s1", "-n", "team1")
	want := `POST /system/secrets {"name":"s1","value":"hunter2"}
PUT /system/secrets {"name":"s1","value":"hunter3"}
POST /system/secrets {"name":"bin","namespace":"team1","rawValue":"AGFzbQEAAAA="}
GET /system/secrets
DELETE /system/secrets {"name":"s1"}
DELETE /system/secrets {"name":"s1","namespace":"team1"}
`
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
	if want := "Name   Namespace\ns1     openfaas-fn\ns2     -\n"; list.stdout != want {
		t.Errorf("list:\n%q\nwant\n%q", list.stdout, want)
	}
	if r := run(t, "", "secret", "create", "s1"); r.code != 1 || !strings.HasPrefix(r.stderr, "sigil: the secret value is empty\n") {
		t.Errorf("empty secret: %+v", r)
	}
}

func TestNamespaces(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("GET /system/namespaces", reply(200, "application/json", `["team1","openfaas-fn"]`))
	f.on("GET /system/namespace/team1", reply(200, "application/json", `{"name":"team1","labels":{"openfaas":"1","x":"y"}}`))
	ls := mustRun(t, "", "namespace", "list")
	mustRun(t, "", "namespace", "create", "team1", "--label", "openfaas=1")
	get := mustRun(t, "", "ns", "get", "team1")
	mustRun(t, "", "namespace", "update", "team1", "--label", "openfaas=1", "--label", "x=y")
	mustRun(t, "", "namespace", "remove", "team1")
	want := `GET /system/namespaces
POST /system/namespace/ {"name":"team1","annotations":{"openfaas":"1"},"labels":{"openfaas":"1"}}
GET /system/namespace/team1
PUT /system/namespace/team1 {"name":"team1","annotations":{"openfaas":"1"},"labels":{"openfaas":"1","x":"y"}}
DELETE /system/namespace/team1 {"name":"team1","labels":{"openfaas":"1"}}
`
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
	if ls.stdout != "openfaas-fn\nteam1\n" {
		t.Errorf("list %q", ls.stdout)
	}
	if want := "Name:          team1\nLabels:        openfaas=1, x=y\nAnnotations:   <none>\n"; get.stdout != want {
		t.Errorf("get %q, want %q", get.stdout, want)
	}
}

func TestPushAndArtifacts(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("POST /system/artifacts", reply(201, "application/json",
		`{"digest":"sha256:0b1c","size":8,"abi":"openfaas","tags":["hello:latest","hello:1"]}`))
	f.on("GET /system/artifacts", reply(200, "application/json",
		`[{"digest":"sha256:ffff","size":100,"abi":"wagi","tags":[],"created":"2026-11-22T07:54:34Z"},
		  {"digest":"sha256:0b1c","size":8,"abi":"openfaas","tags":["hello:latest","hello:1"]}]`))
	push := mustRun(t, "", "push", "testdata/hello.wasm", "--tag", "hello:latest", "-t", "hello:1")
	if want := "digest: sha256:0b1c\nsize:   8\nabi:    openfaas\ntags:   hello:latest, hello:1\n"; push.stdout != want {
		t.Errorf("push stdout %q, want %q", push.stdout, want)
	}
	arts := mustRun(t, "", "artifacts")
	golden(t, "artifacts.golden", arts.stdout)
	if got, want := f.requests()[0].String(), "POST /system/artifacts?tag=hello%3Alatest&tag=hello%3A1 \x00asm\x01\x00\x00\x00"; got != want {
		t.Errorf("push wire %q, want %q", got, want)
	}
	if r := run(t, "", "push", "testdata/missing.wasm", "--tag", "x:1"); r.code != 1 ||
		r.stderr != "sigil: push: open testdata/missing.wasm: no such file or directory\n" {
		t.Errorf("missing file: %+v", r)
	}
}

func TestVersion(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("GET /system/info", reply(200, "application/json",
		`{"provider":{"provider":"sigil","orchestration":"wasm","version":{"sha":"abc","release":"0.1.0"}},"version":{"sha":"abc","release":"0.1.0"},"arch":"amd64"}`))
	r := mustRun(t, "", "version")
	for _, want := range []string{"Client\n version: dev\n", "Gateway\n uri:     " + f.srv.URL + "\n version: 0.1.0\n sha:     abc\n arch:    amd64\n",
		"Provider\n name:          sigil\n orchestration: wasm\n version: 0.1.0\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := mustRun(t, "", "version", "--short-version"); r.stdout != "dev\n" {
		t.Errorf("short version %q", r.stdout)
	}
}
