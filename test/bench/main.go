// Command bench is Sigil's load harness (`make bench`). In one run it starts
// a bare net/http hello server and a real `sigil up`, deploys the examples,
// drives every case with the same connections and duration using vegeta,
// and prints one line per case:
//
//	RESULT <case> rps=<n> p50=<d> p99=<d> ratio=<rps/bare rps>
//
// Ratios against the bare server measured in the same run are the figures to
// compare: these machines are shared and absolute numbers drift ±25%. It also
// measures time to ready, deploy → first response and restart → first
// response, and writes docs/performance.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sigilhq/sigil/internal/build"
)

type benchCase struct {
	name     string
	function string // "" = the bare server
	method   string
	path     string
	status   int
}

type result struct {
	name     string
	rps      float64
	p50, p99 time.Duration
	success  float64
	requests uint64
	ratio    float64
}

var (
	duration    = flag.Duration("duration", 10*time.Second, "load duration per case")
	warmup      = flag.Duration("warmup", 2*time.Second, "warm-up per case (not measured)")
	connections = flag.Int("connections", 50, "concurrent connections per case")
	outFile     = flag.String("out", "docs/performance.md", "markdown report to write (\"\" = none)")
	only        = flag.String("cases", "", "comma-separated case names to run (default all)")
	serveBare   = flag.String("serve-bare", "", "internal: serve the bare hello on this address")
	idle        = flag.Int("idle", 1000, "deploy this many idle functions (distinct modules) and report RSS; 0 skips")
)

func main() {
	flag.Parse()
	if *serveBare != "" {
		runBare(*serveBare)
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runBare is the baseline: the smallest net/http server answering hello.
func runBare(addr string) {
	hello := []byte("hello")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(hello)
	})
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func run() error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "sigil-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fmt.Fprintln(os.Stderr, "building sigil and the guests...")
	sigil := filepath.Join(work, "sigil")
	if out, err := exec.Command("go", "build", "-o", sigil, "./cmd/sigil").CombinedOutput(); err != nil {
		return fmt.Errorf("build sigil: %v\n%s", err, out)
	}
	mods := map[string]string{}
	for _, e := range build.Examples() {
		if e.Name != "hello" && e.Name != "echo" && e.Name != "redirect" {
			continue
		}
		p, err := build.BuildExample(ctx, ".", e, work)
		if err != nil {
			return fmt.Errorf("build %s: %w", e.Name, err)
		}
		mods[e.Name] = p
	}

	// The bare baseline, in its own process like sigil.
	bareAddr, err := freeAddr()
	if err != nil {
		return err
	}
	self, _ := os.Executable()
	bare := exec.Command(self, "-serve-bare", bareAddr)
	bare.Stderr = os.Stderr
	if err := bare.Start(); err != nil {
		return err
	}
	defer func() { _ = bare.Process.Kill(); _ = bare.Wait() }()
	if err := waitHTTP("http://"+bareAddr+"/", 10*time.Second); err != nil {
		return fmt.Errorf("bare server: %w", err)
	}

	dataDir := filepath.Join(work, "data")
	node, err := startSigil(sigil, dataDir)
	if err != nil {
		return err
	}
	defer node.stop()
	notes := []string{fmt.Sprintf("time to ready (`sigil up`, fresh data dir): %s", node.startup)}

	env := []string{"SIGIL_URL=" + node.url, "SIGIL_KEY=" + filepath.Join(dataDir, "keys", "dev.key")}
	deploys := []struct{ fn, mod, abi string }{
		{"c-echo", "echo", "openfaas"},
		{"go-hello", "hello", "openfaas"},
		{"go-hello-pooled", "hello", "pooled"},
		{"wagi-redirect", "redirect", "wagi"},
	}
	for _, d := range deploys {
		image := "bench/" + d.fn + ":latest"
		if out, err := cli(sigil, env, "push", mods[d.mod], "--tag", image, "--abi", d.abi); err != nil {
			return fmt.Errorf("push %s: %v\n%s", d.fn, err, out)
		}
		began := time.Now()
		if out, err := cli(sigil, env, "deploy", "--name", d.fn, "--image", image); err != nil {
			return fmt.Errorf("deploy %s: %v\n%s", d.fn, err, out)
		}
		if err := waitInvoke(node.url+"/function/"+d.fn, 60*time.Second); err != nil {
			return err
		}
		notes = append(notes, fmt.Sprintf("deploy → first response, %s (%s, already pushed): %s", d.fn, sizeOf(mods[d.mod]), time.Since(began).Round(time.Microsecond)))
	}
	// A Go guest pushed and deployed from nothing: includes the compile.
	began := time.Now()
	if out, err := cli(sigil, env, "push", mods["hello"], "--tag", "bench/go-hello-cold:latest"); err != nil {
		return fmt.Errorf("push: %v\n%s", err, out)
	}
	if out, err := cli(sigil, env, "deploy", "--name", "go-hello-cold", "--image", "bench/go-hello-cold:latest"); err != nil {
		return fmt.Errorf("deploy: %v\n%s", err, out)
	}
	if err := waitInvoke(node.url+"/function/go-hello-cold", 60*time.Second); err != nil {
		return err
	}
	notes = append(notes, fmt.Sprintf("push + deploy → first response, Go hello (same bytes, compile cached in memory): %s", time.Since(began).Round(time.Millisecond)))

	cases := []benchCase{
		{name: "bare", method: "POST", path: "http://" + bareAddr + "/", status: 200},
		{name: "c-echo-fresh", function: "c-echo", method: "POST", status: 200},
		{name: "go-hello-fresh", function: "go-hello", method: "POST", status: 200},
		{name: "go-hello-pooled", function: "go-hello-pooled", method: "POST", status: 200},
		{name: "wagi-fresh", function: "wagi-redirect", method: "GET", status: 302},
	}
	var results []result
	var bareRPS float64
	for _, c := range cases {
		if *only != "" && c.name != "bare" && !strings.Contains(","+*only+",", ","+c.name+",") {
			continue
		}
		target := c.path
		if c.function != "" {
			target = node.url + "/function/" + c.function
		}
		r := attack(c, target)
		if c.name == "bare" {
			bareRPS = r.rps
		}
		if bareRPS > 0 {
			r.ratio = r.rps / bareRPS
		}
		results = append(results, r)
		fmt.Printf("RESULT %s rps=%.0f p50=%s p99=%s ratio=%.3f\n", r.name, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.ratio)
		if r.success < 0.999 {
			fmt.Fprintf(os.Stderr, "warning: %s success ratio %.4f\n", r.name, r.success)
		}
	}

	// Restart → first response (served from the file-backed compile cache).
	node.stop()
	restarted, err := startSigil(sigil, dataDir)
	if err != nil {
		return err
	}
	defer restarted.stop()
	if err := waitInvoke(restarted.url+"/function/c-echo", 60*time.Second); err != nil {
		return err
	}
	notes = append(notes, fmt.Sprintf("restart → first response, C echo (process start to first 200): %s", time.Since(restarted.began).Round(time.Millisecond)))
	if err := waitInvoke(restarted.url+"/function/go-hello-pooled", 60*time.Second); err != nil {
		return err
	}
	notes = append(notes, fmt.Sprintf("restart → first response, Go hello pooled (process start to first 200): %s", time.Since(restarted.began).Round(time.Millisecond)))
	if *idle > 0 {
		note, err := idleFunctions(ctx, restarted, dataDir, mods["echo"], *idle)
		if err != nil {
			return fmt.Errorf("idle functions: %w", err)
		}
		notes = append(notes, note)
	}
	for _, n := range notes {
		fmt.Println("NOTE", n)
	}
	if *outFile != "" {
		return writeReport(*outFile, results, notes)
	}
	return nil
}

func sizeOf(p string) string {
	st, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	if st.Size() > 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(st.Size())/1e6)
	}
	return fmt.Sprintf("%.1f KB", float64(st.Size())/1e3)
}

func attack(c benchCase, target string) result {
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: c.method, URL: target, Body: []byte("hello")})
	// An attacker stops for good after one attack: one for the warm-up,
	// one for the measurement.
	newAttacker := func() *vegeta.Attacker {
		return vegeta.NewAttacker(
			vegeta.Connections(*connections), vegeta.MaxConnections(*connections),
			vegeta.Workers(uint64(*connections)), vegeta.MaxWorkers(uint64(*connections)),
			vegeta.Redirects(vegeta.NoFollow), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second),
		)
	}
	rate := vegeta.Rate{Freq: 0} // as fast as the workers go
	for range newAttacker().Attack(tr, rate, *warmup, c.name+"-warmup") {
	}
	var m vegeta.Metrics
	for res := range newAttacker().Attack(tr, rate, *duration, c.name) {
		if int(res.Code) != c.status {
			res.Error = fmt.Sprintf("status %d", res.Code)
		}
		m.Add(res)
	}
	m.Close()
	return result{name: c.name, rps: m.Throughput, p50: m.Latencies.P50, p99: m.Latencies.P99, success: m.Success, requests: m.Requests}
}

type sigilProc struct {
	cmd     *exec.Cmd
	url     string
	began   time.Time
	startup string
	done    chan struct{}
}

var readyRE = regexp.MustCompile(`sigil is ready.* url=(http://\S+).* startup=(\S+)`)

func startSigil(bin, dataDir string) (*sigilProc, error) {
	p := &sigilProc{began: time.Now(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, "up", "--no-auth", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	p.cmd.Env = append(os.Environ(), "SIGIL_LOG_LEVEL=info")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
	}()
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	select {
	case m := <-ready:
		p.url, p.startup = m[1], m[2]
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("sigil up exited before ready")
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return nil, fmt.Errorf("sigil up not ready within 30s")
	}
}

func (p *sigilProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func cli(bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func waitHTTP(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitInvoke polls a function until it answers anything but 404/5xx.
func waitInvoke(url string, within time.Duration) error {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(within)
	for {
		res, err := c.Post(url, "text/plain", strings.NewReader("hello"))
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode < 400 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s", url, within)
		}
		time.Sleep(time.Millisecond)
	}
}

func writeReport(path string, results []result, notes []string) error {
	var b bytes.Buffer
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Generated by `make bench` (`go run ./test/bench`) on %s, %s/%s, %d CPUs, %s, host %q.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), host)
	b.WriteString("## Method\n\n")
	fmt.Fprintf(&b, "- One run starts a bare `net/http` hello (its own process) and a real `sigil up --no-auth` (fresh data dir), pushes and deploys the examples with the `sigil` CLI, then drives each case with [vegeta](https://github.com/tsenart/vegeta) at maximum rate: %d connections, %d workers, %s warm-up then %s measured, keep-alive, body `hello`.\n", *connections, *connections, *warmup, *duration)
	b.WriteString("- `rps` is successful responses per second; `ratio` is rps / bare rps **in the same run** — compare ratios, not absolute numbers (shared 2-core machines drift ±25%).\n")
	b.WriteString("- Load generator and servers share the machine's cores, as in every run here.\n\n")
	b.WriteString("## Throughput\n\n| case | rps | p50 | p99 | ratio to bare | requests | success |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %.3f | %d | %.4f |\n", r.name, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.ratio, r.requests, r.success)
	}
	b.WriteString("\n## Latency of the control plane\n\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\nCases: `bare` = the baseline; `c-echo-fresh` = the C echo example (17 KB), a fresh instance per request; `go-hello-fresh` = the Go hello example (GOOS=wasip1, an http.Handler on the guest SDK, ~5 MB), a fresh instance per request; `go-hello-pooled` = the same module pushed with `--abi pooled`: warm instances each serving many requests; `wagi-fresh` = the C WAGI redirect example answering 302.\n")
	return writeGenerated(path, b.Bytes())
}

// writeGenerated replaces the part of path between the bench markers with
// gen, keeping the hand-written analysis around it; a file without markers
// is written whole, with the markers added.
func writeGenerated(path string, gen []byte) error {
	const begin, end = "<!-- bench:begin -->\n", "<!-- bench:end -->\n"
	old, err := os.ReadFile(path)
	if err == nil {
		s := string(old)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i >= 0 && j > i {
			out := s[:i+len(begin)] + string(gen) + s[j:]
			return os.WriteFile(path, []byte(out), 0o644)
		}
	}
	return os.WriteFile(path, []byte(begin+string(gen)+end), 0o644)
}
