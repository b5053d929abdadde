package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// These tests run the built modules under wazero (interpreter: compiling a
// Go guest with the optimizing compiler costs ~0.6 s each) to check that the
// examples and test guests behave as their READMEs say. They check the
// guests, not Sigil's runtime, so they configure wazero directly.

type runSpec struct {
	args      []string
	env       map[string]string
	stdin     []byte
	stdout    *bytes.Buffer // nil: a fresh buffer
	mounts    map[string]string
	memPages  uint32
	timeout   time.Duration
	stdoutCap int // >0: writes beyond this many bytes fail
}

type runResult struct {
	stdout, stderr string
	exitCode       uint32
	err            error // nil, *sys.ExitError or a trap/timeout
}

// cappedWriter fails writes once it holds limit bytes.
type cappedWriter struct {
	buf   bytes.Buffer
	limit int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.limit {
		return 0, errors.New("output limit reached")
	}
	return w.buf.Write(p)
}

func runWasm(t *testing.T, wasmPath string, spec runSpec) runResult {
	t.Helper()
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	timeout := spec.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc := wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true)
	if spec.memPages > 0 {
		rc = rc.WithMemoryLimitPages(spec.memPages)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	defer r.Close(context.Background())
	wasi_snapshot_preview1.MustInstantiate(ctx, r)

	var stdout, stderr bytes.Buffer
	var capped *cappedWriter
	mc := wazero.NewModuleConfig().
		WithArgs(spec.args...).
		WithStdin(bytes.NewReader(spec.stdin)).
		WithStderr(&stderr)
	if spec.stdoutCap > 0 {
		capped = &cappedWriter{limit: spec.stdoutCap}
		mc = mc.WithStdout(capped)
	} else {
		mc = mc.WithStdout(&stdout)
	}
	for k, v := range spec.env {
		mc = mc.WithEnv(k, v)
	}
	if len(spec.mounts) > 0 {
		fsc := wazero.NewFSConfig()
		for guest, host := range spec.mounts {
			fsc = fsc.WithReadOnlyDirMount(host, guest)
		}
		mc = mc.WithFSConfig(fsc)
	}
	_, err = r.InstantiateWithConfig(ctx, wasm, mc)
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
	if capped != nil {
		res.stdout = capped.buf.String()
	}
	var exitErr *sys.ExitError
	if errors.As(err, &exitErr) {
		res.exitCode = exitErr.ExitCode()
	}
	return res
}

func buildExampleNamed(t *testing.T, name, outDir string) string {
	t.Helper()
	for _, e := range Examples() {
		if e.Name == name {
			requireToolchain(t, e.Lang)
			out, err := BuildExample(testContext(t), repoRoot(t), e, outDir)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("no example %q", name)
	return ""
}

func TestExamplesRun(t *testing.T) {
	outDir := t.TempDir()
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "x"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, '\r', '\n'}, 200_000) // 1.2 MB, binary
	tests := []struct {
		example    string
		spec       runSpec
		wantStdout string
		wantCode   uint32
		wantErrSub string // in stderr
	}{
		{example: "hello", spec: runSpec{args: []string{"hello"}, stdin: []byte("Sigil")}, wantStdout: "Hello, Sigil!\n"},
		{example: "hello", spec: runSpec{args: []string{"hello"}}, wantStdout: "Hello, world!\n"},
		{example: "echo", spec: runSpec{args: []string{"echo"}, stdin: big}, wantStdout: string(big)},
		{example: "echo", spec: runSpec{args: []string{"echo"}}, wantStdout: ""},
		{
			example:    "env",
			spec:       runSpec{args: []string{"env", "a b"}, env: map[string]string{"Http_Method": "POST", "B": "2", "A": "1=1"}},
			wantStdout: "A=1=1\nB=2\nHttp_Method=POST\nargv[0]=env\nargv[1]=a b\n",
		},
		{example: "redirect", spec: runSpec{args: []string{"/"}}, wantStdout: "Location: https://example.com/\n\n"},
		{
			example:    "redirect",
			spec:       runSpec{args: []string{"/"}, env: map[string]string{"destination": "https://sigil.dev/x\r\nSet-Cookie: a=b"}},
			wantStdout: "Location: https://sigil.dev/x\n\n",
		},
		{
			example:    "coreutils",
			spec:       runSpec{args: []string{"cat", "/var/openfaas/secrets/x"}, mounts: map[string]string{"/var/openfaas/secrets": secrets}},
			wantStdout: "s3cret",
		},
		{example: "coreutils", spec: runSpec{args: []string{"wc"}, stdin: []byte("a b\nc\n")}, wantStdout: "      2       3       6\n"},
		{example: "coreutils", spec: runSpec{args: []string{"echo", "x", "y"}}, wantStdout: "x y\n"},
		{example: "coreutils", spec: runSpec{args: []string{"rm", "-rf"}}, wantCode: 2, wantErrSub: `unknown applet "rm"`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.example, i), func(t *testing.T) {
			wasm := buildExampleNamed(t, tt.example, outDir)
			res := runWasm(t, wasm, tt.spec)
			if res.exitCode != tt.wantCode || (tt.wantCode == 0 && res.err != nil) {
				t.Fatalf("exit = %d, err = %v, want exit %d (stderr %q)", res.exitCode, res.err, tt.wantCode, res.stderr)
			}
			if res.stdout != tt.wantStdout {
				if len(res.stdout) > 200 {
					t.Fatalf("stdout differs: %d bytes, want %d", len(res.stdout), len(tt.wantStdout))
				}
				t.Fatalf("stdout = %q, want %q", res.stdout, tt.wantStdout)
			}
			if !strings.Contains(res.stderr, tt.wantErrSub) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.wantErrSub)
			}
		})
	}
}

func buildGuest(t *testing.T, name string) string {
	t.Helper()
	requireToolchain(t, "c")
	out := filepath.Join(t.TempDir(), name+".wasm")
	src := filepath.Join(repoRoot(t), "test", "guests", name, "main.c")
	if err := C(testContext(t), []string{src}, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGuestsRun(t *testing.T) {
	t.Run("stderr", func(t *testing.T) {
		res := runWasm(t, buildGuest(t, "stderr"), runSpec{args: []string{"stderr"}})
		if res.err != nil || res.stdout != "ok\n" || res.stderr != "line 1\nline 2\nline 3\n" {
			t.Fatalf("got err=%v stdout=%q stderr=%q", res.err, res.stdout, res.stderr)
		}
	})
	t.Run("exit3", func(t *testing.T) {
		res := runWasm(t, buildGuest(t, "exit3"), runSpec{args: []string{"exit3"}})
		if res.exitCode != 3 || res.stdout != "bye\n" {
			t.Fatalf("got exit=%d err=%v stdout=%q", res.exitCode, res.err, res.stdout)
		}
	})
	t.Run("trap", func(t *testing.T) {
		res := runWasm(t, buildGuest(t, "trap"), runSpec{args: []string{"trap"}})
		var exitErr *sys.ExitError
		if res.err == nil || errors.As(res.err, &exitErr) || !strings.Contains(res.err.Error(), "unreachable") {
			t.Fatalf("err = %v, want an unreachable trap", res.err)
		}
	})
	t.Run("loop", func(t *testing.T) {
		start := time.Now()
		res := runWasm(t, buildGuest(t, "loop"), runSpec{args: []string{"loop"}, timeout: 300 * time.Millisecond})
		var exitErr *sys.ExitError
		if !errors.As(res.err, &exitErr) || exitErr.ExitCode() != sys.ExitCodeDeadlineExceeded {
			t.Fatalf("err = %v, want deadline exceeded", res.err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("loop took %v to stop", d)
		}
	})
	t.Run("membomb", func(t *testing.T) {
		const capMiB = 16
		res := runWasm(t, buildGuest(t, "membomb"), runSpec{args: []string{"membomb"}, memPages: capMiB * 16})
		m := regexp.MustCompile(`malloc failed after (\d+) MiB`).FindStringSubmatch(res.stderr)
		if m == nil || res.err == nil || !strings.Contains(res.err.Error(), "unreachable") {
			t.Fatalf("err = %v, stderr = %q, want an abort after malloc failed", res.err, res.stderr)
		}
		if n, _ := strconv.Atoi(m[1]); n >= capMiB || n < capMiB/2 {
			t.Errorf("allocated %d MiB under a %d MiB cap", n, capMiB)
		}
	})
	t.Run("flood", func(t *testing.T) {
		const limit = 1 << 20
		res := runWasm(t, buildGuest(t, "flood"), runSpec{args: []string{"flood"}, stdoutCap: limit})
		if res.exitCode != 1 || !strings.Contains(res.stderr, "flood: write failed after") {
			t.Fatalf("exit = %d, err = %v, stderr = %q", res.exitCode, res.err, res.stderr)
		}
		if len(res.stdout) != limit || strings.Trim(res.stdout, "x") != "" {
			t.Errorf("stdout holds %d bytes, want %d of 'x'", len(res.stdout), limit)
		}
	})
}

func TestGifExampleRun(t *testing.T) {
	wasm := buildExampleNamed(t, "gif", t.TempDir())
	src := image.NewRGBA(image.Rect(0, 0, 32, 16))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	var body bytes.Buffer
	if err := png.Encode(&body, src); err != nil {
		t.Fatal(err)
	}
	res := runWasm(t, wasm, runSpec{args: []string{"gif"}, stdin: body.Bytes(), env: map[string]string{"Http_Query": "w=8"}})
	if res.err != nil {
		t.Fatalf("err = %v, stderr = %q", res.err, res.stderr)
	}
	g, err := gif.Decode(strings.NewReader(res.stdout))
	if err != nil {
		t.Fatalf("output is not a GIF: %v", err)
	}
	if b := g.Bounds(); b.Dx() != 8 || b.Dy() != 4 {
		t.Errorf("size = %dx%d, want 8x4", b.Dx(), b.Dy())
	}
	res = runWasm(t, wasm, runSpec{args: []string{"gif"}, stdin: []byte("not an image")})
	if res.exitCode != 1 || !strings.Contains(res.stderr, "not a PNG or JPEG") {
		t.Errorf("bad input: exit = %d, err = %v, stderr = %q", res.exitCode, res.err, res.stderr)
	}
}
