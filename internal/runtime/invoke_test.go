package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func TestInvokeOutcomes(t *testing.T) {
	r := newRuntime(t, Config{})
	secrets := fstest.MapFS{"x": &fstest.MapFile{Data: []byte("s3cret"), Mode: 0o444}}

	tests := []struct {
		name       string
		guest      string
		spec       Spec
		wantExit   uint32
		wantStdout string
		wantStderr []string
		wantErr    error
		wantTrap   string // substring of TrapError.Msg
		wantDenied bool
	}{
		{name: "echo", guest: "echo", spec: Spec{Stdin: []byte("hello")}, wantStdout: "hello"},
		{name: "echo empty stdin", guest: "echo", wantStdout: ""},
		{name: "echo large stdin", guest: "echo", spec: Spec{Stdin: bytes.Repeat([]byte("ab"), 50000)}, wantStdout: strings.Repeat("ab", 50000)},
		{name: "non-zero exit is an outcome", guest: "exit3", wantExit: 3},
		{
			name: "args and env, nothing from the host", guest: "argsenv",
			spec:       Spec{Args: []string{"fn", "a b"}, Env: []string{"K=V", "Http_Method=POST", "EMPTY="}},
			wantStdout: "fn\na b\nK=V\nHttp_Method=POST\nEMPTY=\n",
		},
		{name: "endless loop times out", guest: "loop", spec: Spec{Timeout: 50 * time.Millisecond}, wantErr: ErrTimeout},
		{name: "trap", guest: "trap", wantTrap: "unreachable"},
		{
			name: "memory bomb stops at the limit", guest: "membomb", spec: Spec{MemoryLimit: 4 << 20},
			wantErr: ErrMemoryLimit, wantTrap: "unreachable", wantDenied: true,
		},
		{name: "initial memory above the limit", guest: "bigmin", spec: Spec{MemoryLimit: 1 << 20}, wantErr: ErrMemoryLimit},
		{name: "initial memory within the limit", guest: "bigmin", spec: Spec{MemoryLimit: 16 << 20}},
		{name: "output limit", guest: "spew", spec: Spec{MaxStdout: 10000, Timeout: 10 * time.Second}, wantErr: ErrOutputLimit, wantStdout: strings.Repeat("x", 10000)},
		{name: "read a secret", guest: "readsecret", spec: Spec{Secrets: secrets}, wantStdout: "s3cret"},
		{name: "no secrets mounted", guest: "readsecret", wantExit: 2},
		{name: "secrets are read-only", guest: "writesecret", spec: Spec{Secrets: secrets}, wantExit: 1},
		{
			name: "stderr lines", guest: "stderr", spec: Spec{Stdin: nil},
			wantStderr: []string{"one", "two", "partial"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			digest, _ := guest(t, tt.guest)
			spec := tt.spec
			spec.Digest = digest
			var mu sync.Mutex
			var lines []string
			spec.Stderr = func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }

			out, err := r.Invoke(context.Background(), &spec)

			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.wantTrap == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantTrap != "" {
				var trap *TrapError
				if !errors.As(err, &trap) || !strings.Contains(trap.Msg, tt.wantTrap) {
					t.Fatalf("err = %v, want a TrapError containing %q", err, tt.wantTrap)
				}
			}
			if out.ExitCode != tt.wantExit {
				t.Errorf("exit = %d, want %d", out.ExitCode, tt.wantExit)
			}
			if string(out.Stdout) != tt.wantStdout {
				t.Errorf("stdout = %.80q (len %d), want %.80q (len %d)", out.Stdout, len(out.Stdout), tt.wantStdout, len(tt.wantStdout))
			}
			if tt.wantStderr != nil && fmt.Sprint(lines) != fmt.Sprint(tt.wantStderr) {
				t.Errorf("stderr lines = %q, want %q", lines, tt.wantStderr)
			}
			if out.MemoryDenied != tt.wantDenied {
				t.Errorf("MemoryDenied = %v, want %v", out.MemoryDenied, tt.wantDenied)
			}
			if a := r.Stats().Active; a != 0 {
				t.Errorf("Active = %d after the call, want 0", a)
			}
		})
	}
}

func TestInvokeCallerCancel(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, _ := guest(t, "loop")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := r.Invoke(ctx, &Spec{Digest: digest, Timeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want the caller's context.DeadlineExceeded, not ErrTimeout", err)
	}
}

func TestInvokeNotFound(t *testing.T) {
	r := newRuntime(t, Config{})
	_, err := r.Invoke(context.Background(), &Spec{Digest: digestOf([]byte("nothing"))})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestInvokeLoadedBytesMismatch(t *testing.T) {
	_, echo := guest(t, "echo")
	r := newRuntime(t, Config{Load: func(context.Context, string) ([]byte, error) { return echo, nil }})
	_, err := r.Invoke(context.Background(), &Spec{Digest: digestOf([]byte("other"))})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}

func TestInvokeBadEnv(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, _ := guest(t, "echo")
	if _, err := r.Invoke(context.Background(), &Spec{Digest: digest, Env: []string{"NOEQUALS"}}); err == nil {
		t.Fatal("want an error for an env entry without '='")
	}
	if a := r.Stats().Active; a != 0 {
		t.Fatalf("Active = %d, want 0", a)
	}
}

func TestInvokeConcurrent(t *testing.T) {
	r := newRuntime(t, Config{})
	digest, _ := guest(t, "echo")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			in := fmt.Sprintf("request-%d", i)
			out, err := r.Invoke(context.Background(), &Spec{Digest: digest, Stdin: []byte(in)})
			switch {
			case err != nil:
				errs <- err
			case string(out.Stdout) != in:
				errs <- fmt.Errorf("stdout %q, want %q", out.Stdout, in)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := r.Stats()
	if st.Active != 0 || st.Invocations != n || st.ColdStarts == 0 || st.Compiled != 1 {
		t.Fatalf("stats = %+v, want Active 0, Invocations %d, ColdStarts > 0, Compiled 1", st, n)
	}
}

func TestInvokeActiveAfterFailures(t *testing.T) {
	r := newRuntime(t, Config{})
	specs := []Spec{
		{Digest: mustDigest(t, "loop"), Timeout: 20 * time.Millisecond},
		{Digest: mustDigest(t, "trap")},
		{Digest: mustDigest(t, "spew"), MaxStdout: 100},
		{Digest: mustDigest(t, "membomb"), MemoryLimit: 2 << 20},
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			spec := specs[i%len(specs)]
			if _, err := r.Invoke(context.Background(), &spec); err == nil {
				t.Errorf("spec %d: want an error", i%len(specs))
			}
		})
	}
	wg.Wait()
	if st := r.Stats(); st.Active != 0 || st.Invocations != 20 {
		t.Fatalf("stats = %+v, want Active 0 and 20 invocations", st)
	}
}

func mustDigest(t *testing.T, name string) string {
	d, _ := guest(t, name)
	return d
}

func TestInvokeBusy(t *testing.T) {
	r := newRuntime(t, Config{MaxInstances: 1})
	loop := mustDigest(t, "loop")
	echo := mustDigest(t, "echo")
	if err := r.Compile(context.Background(), echo, guestWasm["echo"]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Invoke(context.Background(), &Spec{Digest: loop, Timeout: 300 * time.Millisecond})
		done <- err
	}()
	waitFor(t, "the loop guest to hold the only slot", func() bool { return r.Stats().Active == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Invoke(ctx, &Spec{Digest: echo}); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("loop guest: err = %v, want ErrTimeout", err)
	}
	// The slot is free again.
	if out, err := r.Invoke(context.Background(), &Spec{Digest: echo, Stdin: []byte("ok")}); err != nil || string(out.Stdout) != "ok" {
		t.Fatalf("after the slot freed: %q, %v", out.Stdout, err)
	}
}

func TestInvokeAfterClose(t *testing.T) {
	r, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Invoke(context.Background(), &Spec{Digest: mustDigest(t, "echo")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
