package build

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var wasmMagic = []byte("\x00asm")

// repoRoot finds the module root by walking up to go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func requireToolchain(t *testing.T, lang string) {
	t.Helper()
	if !Available(lang) {
		t.Skipf("%s toolchain not available; run scripts/install-deps.sh", lang)
	}
}

func assertWasm(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, wasmMagic) {
		t.Fatalf("%s does not start with the Wasm magic: % x", path, data[:min(8, len(data))])
	}
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

func TestExamplesCatalogue(t *testing.T) {
	root := repoRoot(t)
	seen := map[string]bool{}
	for _, e := range Examples() {
		if seen[e.Name] {
			t.Errorf("duplicate example %q", e.Name)
		}
		seen[e.Name] = true
		if e.Lang != "go" && e.Lang != "c" {
			t.Errorf("%s: lang %q", e.Name, e.Lang)
		}
		if e.ABI != "openfaas" && e.ABI != "wagi" {
			t.Errorf("%s: abi %q", e.Name, e.ABI)
		}
		if want := "sigil/" + e.Name + ":latest"; e.Image != want {
			t.Errorf("%s: image %q, want %q", e.Name, e.Image, want)
		}
		if _, err := os.Stat(filepath.Join(root, e.Dir, "README.md")); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
	for _, name := range []string{"hello", "echo", "env", "coreutils", "redirect", "gif"} {
		if !seen[name] {
			t.Errorf("missing example %q", name)
		}
	}
	for _, e := range Examples() {
		if e.Name == "gif" && e.EnvVars["content_type"] != "image/gif" {
			t.Errorf("gif: content_type = %q", e.EnvVars["content_type"])
		}
		if e.Name == "redirect" && e.ABI != "wagi" {
			t.Errorf("redirect: abi %q, want wagi", e.ABI)
		}
	}
}

// TestBuildExamples builds every example, checks the magic, and checks that a
// second build with unchanged sources leaves the output alone.
func TestBuildExamples(t *testing.T) {
	root := repoRoot(t)
	outDir := t.TempDir()
	for _, e := range Examples() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			requireToolchain(t, e.Lang)
			ctx := testContext(t)
			out, err := BuildExample(ctx, root, e, outDir)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(outDir, e.Name+".wasm"); out != want {
				t.Errorf("path = %q, want %q", out, want)
			}
			assertWasm(t, out)
			before := mtime(t, out)

			again, err := BuildExample(ctx, root, e, outDir)
			if err != nil {
				t.Fatal(err)
			}
			if again != out {
				t.Errorf("second path = %q, want %q", again, out)
			}
			if after := mtime(t, out); !after.Equal(before) {
				t.Errorf("up-to-date output was rebuilt: mtime %v -> %v", before, after)
			}
		})
	}
}

// TestBuildExampleRebuildsStale makes the output older than the sources and
// expects a rebuild; the repo's sources are not touched.
func TestBuildExampleRebuildsStale(t *testing.T) {
	requireToolchain(t, "c")
	root := repoRoot(t)
	ctx := testContext(t)
	outDir := t.TempDir()
	var echo Example
	for _, e := range Examples() {
		if e.Name == "echo" {
			echo = e
		}
	}
	out, err := BuildExample(ctx, root, echo, outDir)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1, 0) // older than any checked-out source
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildExample(ctx, root, echo, outDir); err != nil {
		t.Fatal(err)
	}
	if got := mtime(t, out); !got.After(old) {
		t.Errorf("stale output was not rebuilt: mtime %v", got)
	}
	assertWasm(t, out)
	// No temporary files left behind.
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("outDir holds %d entries, want only echo.wasm", len(entries))
	}
}

func TestBuildExampleErrors(t *testing.T) {
	root := repoRoot(t)
	ctx := testContext(t)
	tests := []struct {
		name    string
		e       Example
		wantErr string
	}{
		{"unknown language", Example{Name: "x", Lang: "cobol", Dir: "examples/echo"}, `unknown language "cobol"`},
		{"missing dir", Example{Name: "x", Lang: "c", Dir: "examples/does-not-exist"}, "does-not-exist"},
		{"no c files", Example{Name: "x", Lang: "c", Dir: "examples/hello"}, "no .c files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildExample(ctx, root, tt.e, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestBuildGuests compiles every hostile test guest under test/guests.
func TestBuildGuests(t *testing.T) {
	requireToolchain(t, "c")
	root := repoRoot(t)
	dirs, err := filepath.Glob(filepath.Join(root, "test", "guests", "*", "main.c"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"loop": true, "membomb": true, "flood": true, "trap": true, "stderr": true, "exit3": true}
	got := map[string]bool{}
	outDir := t.TempDir()
	t.Run("each", func(t *testing.T) {
		for _, src := range dirs {
			name := filepath.Base(filepath.Dir(src))
			got[name] = true
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(outDir, name+".wasm")
				if err := C(testContext(t), []string{src}, out); err != nil {
					t.Fatal(err)
				}
				assertWasm(t, out)
			})
		}
	})
	for name := range want {
		if !got[name] {
			t.Errorf("guest %q missing from test/guests", name)
		}
	}
}

func TestAvailable(t *testing.T) {
	_, goErr := exec.LookPath("go")
	_, clangErr := exec.LookPath("clang")
	_, sysErr := os.Stat("/usr/include/wasm32-wasi/stdio.h")
	tests := []struct {
		lang string
		want bool
	}{
		{"go", goErr == nil},
		{"rust", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Available(tt.lang); got != tt.want {
			t.Errorf("Available(%q) = %v, want %v", tt.lang, got, tt.want)
		}
	}
	if Available("c") && (clangErr != nil || sysErr != nil) {
		t.Errorf("Available(c) = true without clang (%v) or sysroot (%v)", clangErr, sysErr)
	}
}

// TestNoToolchainOnPath checks the errors when PATH has no compilers.
func TestNoToolchainOnPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if Available("c") || Available("go") {
		t.Fatal("toolchains reported available with an empty PATH")
	}
	ctx := testContext(t)
	err := C(ctx, []string{"x.c"}, filepath.Join(t.TempDir(), "x.wasm"))
	if err == nil || !strings.Contains(err.Error(), "scripts/install-deps.sh") {
		t.Errorf("C error = %v, want a hint to run scripts/install-deps.sh", err)
	}
	err = Go(ctx, t.TempDir(), filepath.Join(t.TempDir(), "x.wasm"))
	if err == nil || !strings.Contains(err.Error(), "go toolchain not found") {
		t.Errorf("Go error = %v", err)
	}
	if err := C(ctx, nil, "x.wasm"); err == nil {
		t.Error("C with no sources succeeded")
	}
}

// TestCompileErrorsCarryOutput checks that compiler diagnostics reach the caller.
func TestCompileErrorsCarryOutput(t *testing.T) {
	ctx := testContext(t)
	t.Run("c", func(t *testing.T) {
		requireToolchain(t, "c")
		dir := t.TempDir()
		src := filepath.Join(dir, "bad.c")
		if err := os.WriteFile(src, []byte("int main(void) { return undefined_thing; }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := C(ctx, []string{src}, filepath.Join(dir, "bad.wasm"))
		if err == nil || !strings.Contains(err.Error(), "undefined_thing") {
			t.Fatalf("err = %v, want the compiler diagnostic", err)
		}
	})
	t.Run("go", func(t *testing.T) {
		requireToolchain(t, "go")
		dir := t.TempDir()
		files := map[string]string{
			"go.mod":  "module bad\n\ngo 1.22\n",
			"main.go": "package main\n\nfunc main() { undefinedThing() }\n",
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := Go(ctx, dir, filepath.Join(dir, "bad.wasm"))
		if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
			t.Fatalf("err = %v, want the compiler diagnostic", err)
		}
	})
}
