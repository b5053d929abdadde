package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/build"
	"github.com/sigilhq/sigil/internal/testutil"
)

var (
	binDir    string // holds the sigil binary and built guests
	sigilBin  string
	repoRoot  string
	guests    = map[string]string{} // name → .wasm path
	guestsErr error
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "sigil-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binDir = dir
		repoRoot, _ = filepath.Abs("../..")
		sigilBin = filepath.Join(dir, "sigil")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		gobuild := exec.CommandContext(ctx, "go", "build", "-o", sigilBin, "./cmd/sigil")
		gobuild.Dir = repoRoot
		out, err := gobuild.CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build sigil: %v\n%s", err, out)
			return 1
		}
		guestsErr = buildGuests(ctx, dir)
		return m.Run()
	}()
	os.Exit(code)
}

// buildGuests builds every example and every hostile test guest, in parallel.
func buildGuests(ctx context.Context, dir string) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	add := func(name, path string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		guests[name] = path
	}
	for _, e := range build.Examples() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := build.BuildExample(ctx, repoRoot, e, dir)
			add(e.Name, p, err)
		}()
	}
	for _, g := range []string{"loop", "membomb", "flood", "trap", "stderr", "exit3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, "guest-"+g+".wasm")
			err := build.C(ctx, []string{filepath.Join(repoRoot, "test", "guests", g, "main.c")}, out)
			add(g, out, err)
		}()
	}
	wg.Add(1)
	go func() { // a pooled Go guest with hostile endpoints (loop, bomb, trap, ...)
		defer wg.Done()
		out := filepath.Join(dir, "guest-sdkguest.wasm")
		err := build.Go(ctx, filepath.Join(repoRoot, "internal", "runtime", "testdata", "sdkguest"), out)
		add("sdkguest", out, err)
	}()
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("build guests (run scripts/install-deps.sh): %v", errs)
	}
	return nil
}

func guest(t testing.TB, name string) []byte {
	t.Helper()
	if guestsErr != nil {
		t.Fatal(guestsErr)
	}
	b, err := os.ReadFile(guests[name])
	if err != nil {
		t.Fatalf("guest %s: %v", name, err)
	}
	return b
}

// node is one running `sigil up` process.
type node struct {
	t       testing.TB
	url     string
	dataDir string
	cmd     *exec.Cmd
	user    string
	pass    string
	logMu   sync.Mutex
	log     bytes.Buffer
	exited  chan struct{}
}

var readyRE = regexp.MustCompile(`sigil is ready.* url=(http://\S+)`)

// startNode boots the real binary on a random port. With auth, it reads the
// generated credentials from the data dir.
func startNode(t testing.TB, dataDir string, args ...string) *node {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	all := append([]string{"up", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--node-name", "e2e"}, args...)
	n, urlc := spawn(t, dataDir, all)
	select {
	case n.url = <-urlc:
	case <-n.exited:
		t.Fatalf("sigil up exited before ready:\n%s", n.logs())
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		t.Fatalf("sigil up not ready within 30s:\n%s", n.logs())
	}
	if u, err := os.ReadFile(filepath.Join(dataDir, "secrets", "basic-auth-user")); err == nil {
		n.user = strings.TrimSpace(string(u))
		p, _ := os.ReadFile(filepath.Join(dataDir, "secrets", "basic-auth-password"))
		n.pass = strings.TrimSpace(string(p))
	}
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("node log:\n%s", n.logs())
		}
	})
	return n
}

// spawn starts `sigil ARGS...`, collects its log and reports the gateway
// URL on the returned channel once the node logs that it is ready.
func spawn(t testing.TB, dataDir string, args []string) (*node, <-chan string) {
	t.Helper()
	n := &node{t: t, dataDir: dataDir, exited: make(chan struct{})}
	n.cmd = exec.Command(sigilBin, args...)
	n.cmd.Env = append(os.Environ(), "SIGIL_LOG_LEVEL=info")
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.logMu.Lock()
			n.log.WriteString(line + "\n")
			n.logMu.Unlock()
			if m := readyRE.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	return n, urlc
}

func (n *node) logs() string {
	n.logMu.Lock()
	defer n.logMu.Unlock()
	return n.log.String()
}

// stop sends SIGTERM and waits for a graceful exit.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
		n.t.Errorf("sigil did not stop within 20s of SIGTERM")
	}
}

// httpClient never follows redirects: a function's 302 must reach us.
var httpClient = &http.Client{
	Timeout:       60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request. System routes get faas-cli's headers: Basic auth when
// the node has credentials, else the empty Bearer header faas-cli sends.
func (n *node) do(method, path string, body any, hdr ...string) resp {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, n.url+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if strings.HasPrefix(path, "/system/") {
		if n.user != "" {
			req.SetBasicAuth(n.user, n.pass)
		} else {
			req.Header.Set("Authorization", "Bearer")
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := httpClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		n.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (n *node) must(want int, method, path string, body any, hdr ...string) resp {
	n.t.Helper()
	r := n.do(method, path, body, hdr...)
	if r.Status != want {
		n.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// push uploads a module signed with the node's developer key (multipart
// module + bundle; see trust_test.go), as `sigil push` does.
func (n *node) push(name, tag, abi string) {
	n.t.Helper()
	n.pushSigned(name, tag, abi)
}

// deploy does what faas-cli deploy does: PUT, and POST when PUT says 404.
func (n *node) deploy(d map[string]any) {
	n.t.Helper()
	r := n.do("PUT", "/system/functions", d)
	if r.Status == http.StatusNotFound {
		r = n.do("POST", "/system/functions", d)
	}
	if r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		n.t.Fatalf("deploy %v: %d %s", d["service"], r.Status, r.Body)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, within, what, cond)
}

// runCLI runs the sigil binary as a user would.
func runCLI(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(sigilBin, args...)
	cmd.Env = append(append(os.Environ(), "SIGIL_CONFIG="+filepath.Join(t.TempDir(), "config.yml")), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// keepCalling POSTs "ping" to path in a loop until the returned stop is
// called; a call counts as good when it answers want with the body echoed.
// stop reports the good and bad calls and the first failure seen.
func (n *node) keepCalling(path string, want int) (stop func() (good, bad int64, first error)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var good, bad int64
	var first error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			res, err := http.Post(n.url+path, "text/plain", strings.NewReader("ping"))
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != want || string(b) != "ping" {
					err = fmt.Errorf("%s: %d %q, want %d echoing the body", path, res.StatusCode, b, want)
				}
			}
			if err != nil {
				bad++
				if first == nil {
					first = err
				}
				continue
			}
			good++
		}
	}()
	return func() (int64, int64, error) {
		close(done)
		wg.Wait()
		return good, bad, first
	}
}
