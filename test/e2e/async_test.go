package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigilhq/sigil/pkg/client"
)

// callbackSink is the X-Callback-Url target: it records every callback by
// call id, and can hold them (gate closed) to keep workers busy.
type callbackSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    map[string]int
	hdr    map[string]http.Header
	body   map[string][]byte
	gate   chan struct{}
	opened bool
}

func newCallbackSink(t *testing.T, gated bool) *callbackSink {
	s := &callbackSink{got: map[string]int{}, hdr: map[string]http.Header{}, body: map[string][]byte{}, gate: make(chan struct{})}
	if !gated {
		s.open()
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id := r.Header.Get("X-Call-Id")
		s.mu.Lock()
		s.got[id]++
		s.hdr[id] = r.Header.Clone()
		s.body[id] = b
		s.mu.Unlock()
		select {
		case <-s.gate:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { s.open(); s.srv.Close() })
	return s
}

func (s *callbackSink) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opened {
		s.opened = true
		close(s.gate)
	}
}

func (s *callbackSink) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[id]
}

func (s *callbackSink) header(id string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hdr[id]
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// metric sums the samples of a Prometheus metric whose line contains all of
// the given label fragments.
func (n *node) metric(name string, labels ...string) float64 {
	n.t.Helper()
	r := n.do("GET", "/metrics", nil)
	sum := 0.0
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue next
			}
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// TestAsyncKill9LosesNothing: every call that got a 202 runs and has its
// callback delivered, although the node is SIGKILLed with the calls queued
// and running.
func TestAsyncKill9LosesNothing(t *testing.T) {
	const calls = 1000
	dir := t.TempDir()
	args := []string{"--no-auth", "--async-ack-wait", "2s"}
	n := startNode(t, dir, args...)
	n.push("echo", "t/echo:latest", "openfaas")
	n.deploy(map[string]any{"service": "echo", "image": "t/echo:latest"})
	sink := newCallbackSink(t, true) // callbacks hang: workers stay busy, calls pile up

	ids := make([]string, calls)
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < calls; i += 8 {
				req, _ := http.NewRequest("POST", n.url+"/async-function/echo", strings.NewReader("call "+strconv.Itoa(i)))
				req.Header.Set("X-Callback-Url", sink.srv.URL+"/done")
				res, err := httpClient.Do(req)
				if err != nil {
					errs <- err
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted || res.Header.Get("X-Call-Id") == "" {
					errs <- fmt.Errorf("call %d: status %d", i, res.StatusCode)
					continue
				}
				ids[i] = res.Header.Get("X-Call-Id")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	before := 0
	sink.mu.Lock()
	before = len(sink.got)
	sink.mu.Unlock()
	n.kill()
	sink.open()
	t.Logf("killed with %d calls accepted, %d callbacks begun (workers held), the rest queued", calls, before)

	killedAt := time.Now()
	n2 := startNode(t, dir, args...)
	eventually(t, 45*time.Second, "every accepted call's callback", func() bool {
		for _, id := range ids {
			if sink.count(id) == 0 {
				return false
			}
		}
		return true
	})
	dups, extra := 0, 0
	for _, id := range ids {
		if c := sink.count(id); c > 1 {
			dups++
			extra += c - 1
		}
		if h := sink.header(id); h.Get("X-Function-Status") != "200" {
			t.Errorf("call %s: X-Function-Status %q", id, h.Get("X-Function-Status"))
		}
	}
	t.Logf("kill -9: %d accepted, %d lost, %d calls called back more than once (%d extra callbacks); all done %.1fs after the kill",
		calls, 0, dups, extra, time.Since(killedAt).Seconds())
	eventually(t, 10*time.Second, "an empty queue", func() bool {
		var st client.QueueStatus
		mustJSON(t, n2.must(200, "GET", "/system/async/queue", nil).Body, &st)
		return st.Depth == 0
	})
}

func TestAsyncRetriesDeadLettersAndCLI(t *testing.T) {
	n := startNode(t, "", "--async-max-body", "2000000")
	env := []string{"SIGIL_URL=" + n.url, "SIGIL_CONFIG=" + filepath.Join(t.TempDir(), "config.yml")}
	if _, stderr, err := runCLI(t, env, n.pass+"\n", "login", "--username", n.user, "--password-stdin"); err != nil {
		t.Fatalf("login: %v %s", err, stderr)
	}
	n.push("exit3", "t/exit3:latest", "openfaas")
	n.push("echo", "t/echo:latest", "openfaas")
	n.deploy(map[string]any{"service": "flaky", "image": "t/exit3:latest", "annotations": map[string]string{
		"com.sigil.async.max-attempts": "3", "com.sigil.async.backoff-initial": "10ms"}})
	n.deploy(map[string]any{"service": "echo", "image": "t/echo:latest"})
	sink := newCallbackSink(t, false)

	// Bad callback URLs are refused before anything is queued.
	n.must(http.StatusBadRequest, "POST", "/async-function/echo", "x", "X-Callback-Url", "ftp://example.com/x")
	n.must(http.StatusNotFound, "POST", "/async-function/nope", "x")
	n.must(http.StatusMethodNotAllowed, "GET", "/async-function/echo", nil)

	// A body too large for a queue message goes through the object store.
	big := bytes.Repeat([]byte("sigil-async "), 1500000/12)
	r := n.must(http.StatusAccepted, "POST", "/async-function/echo/some/path?q=1", big, "X-Callback-Url", sink.srv.URL)
	bigID := r.Header.Get("X-Call-Id")
	n.must(http.StatusRequestEntityTooLarge, "POST", "/async-function/echo", make([]byte, 2000001))
	eventually(t, 20*time.Second, "callback of the large call", func() bool { return sink.count(bigID) == 1 })
	sink.mu.Lock()
	if !bytes.Equal(sink.body[bigID], big) {
		t.Errorf("large body came back as %d bytes, want %d", len(sink.body[bigID]), len(big))
	}
	sink.mu.Unlock()

	// A function that always fails is retried, then dead-lettered, and the
	// caller hears about it.
	r = n.must(http.StatusAccepted, "POST", "/async-function/flaky", "payload", "X-Callback-Url", sink.srv.URL)
	id := r.Header.Get("X-Call-Id")
	eventually(t, 20*time.Second, "the failure callback", func() bool { return sink.count(id) == 1 })
	h := sink.header(id)
	if h.Get("X-Function-Status") != "500" || h.Get("X-Retry") != "2" || h.Get("X-Retry-Max") != "2" || h.Get("X-Function-Name") != "flaky" {
		t.Errorf("callback headers %v", h)
	}
	var list []client.DeadLetter
	mustJSON(t, n.must(200, "GET", "/system/async/dead-letters?function=flaky", nil).Body, &list)
	if len(list) != 1 || list[0].CallID != id || list[0].Attempts != 3 || list[0].Status != 500 {
		t.Fatalf("dead letters %+v", list)
	}
	if got := n.metric("sigil_async_attempts_total", `function_name="flaky.openfaas-fn"`); got != 3 {
		t.Errorf("attempts metric %v, want 3", got)
	}
	if got := n.metric("sigil_async_dead_letters_total", `function_name="flaky.openfaas-fn"`); got != 1 {
		t.Errorf("dead letters metric %v, want 1", got)
	}
	// Async runs are counted by the same metrics as sync ones.
	if got := n.metric("gateway_function_invocation_total", `function_name="flaky.openfaas-fn"`); got != 3 {
		t.Errorf("gateway_function_invocation_total %v, want 3", got)
	}
	n.must(http.StatusUnauthorized, "GET", "/system/async/dead-letters", nil, "Authorization", "Basic eDp5")

	out, stderr, err := runCLI(t, env, "", "async", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "flaky.openfaas-fn") {
		t.Fatalf("sigil async list: %v\n%s%s", err, out, stderr)
	}
	out, _, err = runCLI(t, env, "", "async", "inspect", id, "--body")
	if err != nil || out != "payload" {
		t.Fatalf("sigil async inspect --body: %v %q", err, out)
	}
	if _, stderr, err := runCLI(t, env, "", "async", "redrive", id); err != nil {
		t.Fatalf("redrive: %v %s", err, stderr)
	}
	eventually(t, 20*time.Second, "the re-driven call to fail again", func() bool { return sink.count(id) == 2 })
	eventually(t, 5*time.Second, "the dead letter to be back", func() bool {
		mustJSON(t, n.must(200, "GET", "/system/async/dead-letters", nil).Body, &list)
		return len(list) == 1
	})
	out, _, err = runCLI(t, env, "", "async", "purge", "--all")
	if err != nil || !strings.Contains(out, "Purged 1") {
		t.Fatalf("purge --all: %v %q", err, out)
	}
	mustJSON(t, n.must(200, "GET", "/system/async/dead-letters", nil).Body, &list)
	if len(list) != 0 {
		t.Fatalf("dead letters after purge: %+v", list)
	}
	if _, _, err := runCLI(t, env, "", "async", "inspect", id); err == nil {
		t.Error("inspect of a purged dead letter should fail")
	}
}

func TestAsyncCancel(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("loop", "t/loop:latest", "openfaas")
	n.deploy(map[string]any{"service": "slow", "image": "t/loop:latest",
		"envVars":     map[string]string{"exec_timeout": "2s"},
		"annotations": map[string]string{"com.sigil.async.max-inflight": "1", "com.sigil.async.max-attempts": "1"}})
	a := n.must(http.StatusAccepted, "POST", "/async-function/slow", "a").Header.Get("X-Call-Id")
	eventually(t, 10*time.Second, "the first call to run", func() bool {
		return n.metric("sigil_async_attempts_total", `function_name="slow.openfaas-fn"`) == 1
	})
	b := n.must(http.StatusAccepted, "POST", "/async-function/slow", "b").Header.Get("X-Call-Id")
	n.must(http.StatusConflict, "DELETE", "/async-function/"+a, nil)
	n.must(http.StatusNoContent, "DELETE", "/async-function/"+b, nil)
	n.must(http.StatusNotFound, "DELETE", "/async-function/"+b, nil)
	n.must(http.StatusNotFound, "DELETE", "/async-function/no-such-call", nil)
	// The first call times out and is dead-lettered; the canceled one never runs.
	eventually(t, 15*time.Second, "the first call's dead letter", func() bool {
		return n.metric("sigil_async_dead_letters_total", `function_name="slow.openfaas-fn"`) == 1
	})
	if got := n.metric("sigil_async_attempts_total", `function_name="slow.openfaas-fn"`); got != 1 {
		t.Errorf("attempts %v: the canceled call ran", got)
	}
	if got := n.metric("sigil_async_canceled_total"); got != 1 {
		t.Errorf("canceled metric %v", got)
	}
}

func TestCronTrigger(t *testing.T) {
	n := startNode(t, "", "--no-auth")
	n.push("echo", "t/echo:latest", "openfaas")
	n.deploy(map[string]any{"service": "tick", "image": "t/echo:latest",
		"annotations": map[string]string{"topic": "cron-function", "schedule": "* * * * * *"}})
	eventually(t, 10*time.Second, "two cron runs", func() bool {
		return n.metric("gateway_function_invocation_total", `function_name="tick.openfaas-fn"`, `code="200"`) >= 2
	})
	if got := n.metric("sigil_trigger_fires_total", `function_name="tick.openfaas-fn"`, `kind="cron"`); got < 2 {
		t.Errorf("trigger fires %v", got)
	}
	if !strings.Contains(n.logs(), "trigger fired") {
		t.Error("fired triggers are not logged")
	}
}
