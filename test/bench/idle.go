package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigilhq/sigil/internal/trust"
	"github.com/sigilhq/sigil/pkg/client"
)

// withCustomSection appends a Wasm custom section named "sigil-bench"
// holding payload: the module behaves the same but has another digest.
func withCustomSection(mod []byte, payload string) []byte {
	name := "sigil-bench"
	var body []byte
	body = appendULEB(body, uint64(len(name)))
	body = append(body, name...)
	body = append(body, payload...)
	out := append([]byte{}, mod...)
	out = append(out, 0) // custom section id
	out = appendULEB(out, uint64(len(body)))
	return append(out, body...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// idleFunctions deploys n functions, each with its own module (so each has
// its own compiled code), waits until every one is available, and reports
// the node's resident memory.
func idleFunctions(ctx context.Context, node *sigilProc, dataDir, echoPath string, n int) (string, error) {
	echo, err := os.ReadFile(echoPath)
	if err != nil {
		return "", err
	}
	key, err := trust.LoadSigningKeyFile(filepath.Join(dataDir, "keys", "dev.key"))
	if err != nil {
		return "", err
	}
	c := client.New(node.url)
	rssBefore := rssMB(node.cmd.Process.Pid)
	began := time.Now()
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				mod := withCustomSection(echo, strconv.Itoa(i))
				bundle, err := trust.Sign(ctx, key, mod)
				if err == nil {
					tag := fmt.Sprintf("bench/idle-%d:latest", i)
					_, err = c.PushSigned(ctx, mod, bundle, []string{tag}, "openfaas", "")
					if err == nil {
						err = c.Deploy(ctx, client.FunctionDeployment{Service: fmt.Sprintf("idle-%d", i), Image: tag}, true)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("function %d: %w", i, err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", err
	}
	deployed := time.Since(began)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		fns, err := c.ListFunctions(ctx, "")
		if err != nil {
			return "", err
		}
		ready := 0
		for _, f := range fns {
			if strings.HasPrefix(f.Name, "idle-") && f.AvailableReplicas > 0 {
				ready++
			}
		}
		if ready >= n {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("only %d of %d idle functions became available", ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if dir, addr := os.Getenv("BENCH_PROFILE_DIR"), os.Getenv("SIGIL_METRICS_LISTEN"); dir != "" && addr != "" {
		for name, path := range map[string]string{"heap.prof": "/debug/pprof/heap", "metrics.txt": "/metrics"} {
			if res, err := http.Get("http://" + addr + path); err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				_ = os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
		}
	}
	afterBurst := rssMB(node.cmd.Process.Pid)
	// Idle means idle: the node trims its heap after ~20-30 s without
	// invocations (internal/server/trim.go). Watch RSS for 45 s.
	idleRSS := afterBurst
	for end := time.Now().Add(45 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		idleRSS = min(idleRSS, rssMB(node.cmd.Process.Pid))
	}
	return fmt.Sprintf("%d deployed idle functions (distinct modules, all compiled and available): RSS %.0f MB when idle (%.0f MB right after the deploy burst, %.0f MB before it); push+deploy of all took %s",
		n, idleRSS, afterBurst, rssBefore, deployed.Round(time.Millisecond)), nil
}

// rssMB reads VmRSS of pid from /proc.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return -1
}
