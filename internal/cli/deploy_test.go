package cli

import (
	"strings"
	"testing"
)

// Bodies from faas-cli-wire.txt.
const (
	envFnBody   = `{"service":"env-fn","image":"docker.io/functions/alpine:latest","envProcess":"env","envVars":{"custom":"1"},"constraints":["node=1"],"secrets":["s1"],"labels":{"a":"b"},"annotations":{"x":"y"},"limits":{"memory":"20Mi","cpu":"100m"},"readOnlyRootFilesystem":true}`
	noUpdBody   = `{"service":"env-fn","image":"docker.io/functions/alpine:latest","namespace":"openfaas-fn","envProcess":"env","labels":{},"annotations":{}}`
	stackFnBody = `{"service":"hello-wasm","image":"ghcr.io/acme/hello.wasm:latest","namespace":"openfaas-fn","envProcess":"hello","envVars":{"from_file":"yes","write_debug":"true"},"constraints":["node.platform.os == linux"],"secrets":["api-key"],"labels":{"com.openfaas.scale.max":"4","com.openfaas.scale.min":"2"},"annotations":{"topic":"orders"},"limits":{"memory":"64Mi","cpu":"200m"},"requests":{"memory":"32Mi"},"readOnlyRootFilesystem":true}`
)

func TestDeployFromFlagsSendsWhatFaasCLISends(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("PUT /system/functions", reply(404, "text/plain", "not found"))
	f.on("POST /system/functions", reply(202, "", ""))
	r := mustRun(t, "", "deploy", "--image", "docker.io/functions/alpine:latest", "--name", "env-fn",
		"--fprocess", "env", "--env", "custom=1", "--label", "a=b", "--annotation", "x=y", "--secret", "s1",
		"--memory-limit", "20Mi", "--cpu-limit", "100m", "--constraint", "node=1", "--readonly")
	want := "PUT /system/functions " + envFnBody + "\nPOST /system/functions " + envFnBody + "\n"
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
	wantOut := "Deploying: env-fn.\nDeployed. 202 Accepted.\nURL: " + f.srv.URL + "/function/env-fn\n"
	if r.stdout != wantOut {
		t.Errorf("stdout %q, want %q", r.stdout, wantOut)
	}
}

func TestDeployUpdateFalsePostsOnly(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	r := mustRun(t, "", "deploy", "--image", "docker.io/functions/alpine:latest", "--name", "env-fn",
		"--fprocess", "env", "-n", "openfaas-fn", "--update=false")
	if got, want := f.wire(), "POST /system/functions "+noUpdBody+"\n"; got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(r.stdout, "Deployed. 200 OK.\nURL: "+f.srv.URL+"/function/env-fn.openfaas-fn\n") {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestDeployStack(t *testing.T) {
	f := newFake(t)
	isolate(t, "http://127.0.0.1:1") // the stack file's gateway must win over the environment
	t.Setenv("STACK_GATEWAY", f.srv.URL)
	t.Setenv("TAG", "latest")
	f.on("POST /system/artifacts", reply(201, "application/json",
		`{"digest":"sha256:0b1c","size":8,"abi":"wagi","tags":["ghcr.io/acme/hello.wasm:latest"]}`))
	f.on("PUT /system/functions", reply(202, "", ""))

	r := mustRun(t, "", "deploy", "-f", "testdata/stack.yml", "--filter", "hello-*")
	want := "POST /system/artifacts?abi=wagi&tag=ghcr.io%2Facme%2Fhello.wasm%3Alatest \x00asm\x01\x00\x00\x00\n" +
		"PUT /system/functions " + stackFnBody + "\n"
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%q\nwant:\n%q", got, want)
	}
	if ct := f.requests()[0].Header.Get("Content-Type"); ct != "application/wasm" {
		t.Errorf("push Content-Type %q", ct)
	}
	wantOut := "Pushed testdata/hello.wasm: sha256:0b1c (8 bytes) as ghcr.io/acme/hello.wasm:latest.\n" +
		"Deploying: hello-wasm.\nDeployed. 202 Accepted.\nURL: " + f.srv.URL + "/function/hello-wasm.openfaas-fn\n"
	if r.stdout != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, wantOut)
	}
}

func TestDeployStackAllFunctionsSortedWithDefaults(t *testing.T) {
	f := newFake(t)
	isolate(t, "")
	t.Setenv("STACK_GATEWAY", f.srv.URL)
	t.Setenv("TAG", "") // ${TAG:-dev} falls back to dev
	f.on("POST /system/artifacts", reply(201, "application/json", `{"digest":"sha256:0b1c","size":8}`))
	mustRun(t, "", "deploy", "-f", "testdata/stack.yml", "-n", "team1", "--update=false")
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests:\n%s", f.wire())
	}
	if reqs[0].Query != "abi=wagi&tag=ghcr.io%2Facme%2Fhello.wasm%3Adev" {
		t.Errorf("push query %q", reqs[0].Query)
	}
	if !strings.Contains(reqs[1].Body, `"service":"hello-wasm","image":"ghcr.io/acme/hello.wasm:dev","namespace":"team1"`) {
		t.Errorf("first deploy %s", reqs[1])
	}
	if got, want := reqs[2].String(), `POST /system/functions {"service":"other","image":"other:1","namespace":"team1","labels":{},"annotations":{}}`; got != want {
		t.Errorf("second deploy\n got  %s\n want %s", got, want)
	}
}

func TestDeployGatewayFlagBeatsStack(t *testing.T) {
	stackGW, flagGW := newFake(t), newFake(t)
	isolate(t, "")
	t.Setenv("STACK_GATEWAY", stackGW.srv.URL)
	stackGW.on("POST /system/artifacts", reply(201, "application/json", `{}`))
	flagGW.on("POST /system/artifacts", reply(201, "application/json", `{}`))
	mustRun(t, "", "deploy", "-f", "testdata/stack.yml", "--filter", "other", "-g", flagGW.srv.URL+"/")
	if n := len(stackGW.requests()); n != 0 {
		t.Errorf("stack gateway got %d requests", n)
	}
	if n := len(flagGW.requests()); n != 1 {
		t.Errorf("flag gateway got %d requests, want 1", n)
	}
}

func TestDeployFromFlagsPushesWasm(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	f.on("POST /system/artifacts", reply(201, "application/json", `{"digest":"sha256:0b1c","size":8}`))
	mustRun(t, "", "deploy", "--image", "cgi:1", "--name", "cgi", "--wasm", "testdata/hello.wasm", "--abi", "wagi")
	want := "POST /system/artifacts?abi=wagi&tag=cgi%3A1 \x00asm\x01\x00\x00\x00\n" +
		`PUT /system/functions {"service":"cgi","image":"cgi:1","labels":{},"annotations":{}}` + "\n"
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%q\nwant:\n%q", got, want)
	}
}

func TestRemove(t *testing.T) {
	f := newFake(t)
	isolate(t, "")
	t.Setenv("STACK_GATEWAY", f.srv.URL)
	mustRun(t, "", "remove", "env-fn", "-g", f.srv.URL)
	mustRun(t, "", "rm", "-f", "testdata/stack.yml", "--filter", "hello-wasm")
	want := `DELETE /system/functions {"functionName":"env-fn"}` + "\n" +
		`DELETE /system/functions {"functionName":"hello-wasm","namespace":"openfaas-fn"}` + "\n"
	if got := f.wire(); got != want {
		t.Errorf("wire:\n%s\nwant:\n%s", got, want)
	}
}

func TestScale(t *testing.T) {
	f := newFake(t)
	isolate(t, f.srv.URL)
	r := mustRun(t, "", "scale", "env-fn", "--replicas", "3")
	if got, want := f.wire(), `POST /system/scale-function/env-fn {"serviceName":"env-fn","replicas":3}`+"\n"; got != want {
		t.Errorf("wire %q, want %q", got, want)
	}
	if r.stdout != "Scaled env-fn to 3 replica(s).\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r := run(t, "", "scale", "env-fn"); r.code != 1 || !strings.HasPrefix(r.stderr, "sigil: --replicas is required\n") {
		t.Errorf("missing --replicas: %+v", r)
	}
}
