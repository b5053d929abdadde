package e2e

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAsyncEcho measures durable async throughput end to end: b.N
// POST /async-function/echo (each answered 202 only after JetStream stored
// it), run by the workers through the C echo; the clock stops when the last
// call has run. Run it with
//
//	go test ./test/e2e/ -run '^$' -bench AsyncEcho -benchtime 20000x
func BenchmarkAsyncEcho(b *testing.B) {
	n := startNode(b, "", "--no-auth")
	n.push("echo", "t/echo:latest", "openfaas")
	n.deploy(map[string]any{"service": "echo", "image": "t/echo:latest"})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	base := n.metric("sigil_async_successes_total", `function_name="echo.openfaas-fn"`)
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				res, err := hc.Post(n.url+"/async-function/echo", "text/plain", strings.NewReader("hello"))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	deadline := time.Now().Add(5 * time.Minute)
	for n.metric("sigil_async_successes_total", `function_name="echo.openfaas-fn"`)-base < float64(b.N) {
		if time.Now().After(deadline) {
			b.Fatal("calls did not finish within 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	total := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/total.Seconds(), "calls/s")
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
}
