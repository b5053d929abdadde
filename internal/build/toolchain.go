package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Sysroot is the WASI sysroot clang is pointed at. Debian's wasi-libc puts its
// headers in /usr/include/wasm32-wasi and its libraries in /usr/lib/wasm32-wasi.
const Sysroot = "/usr"

// installHint is appended to errors caused by a missing C toolchain.
const installHint = "run scripts/install-deps.sh to install clang, lld and wasi-libc"

// Go builds the main package in srcDir with
// GOOS=wasip1 GOARCH=wasm go build -trimpath -o out. The environment is
// inherited; GOOS, GOARCH and CGO_ENABLED=0 are forced. Errors include the
// compiler output.
func Go(ctx context.Context, srcDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build go %s: go toolchain not found on PATH: %w", srcDir, err)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("build go %s: output path %q: %w", srcDir, out, err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", absOut, ".")
	cmd.Dir = srcDir
	// Later entries win in exec.Cmd, so these override the inherited values.
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if err := run(cmd); err != nil {
		return fmt.Errorf("build go %s: %w", srcDir, err)
	}
	return nil
}

// C builds srcFiles into one WASI command module with
// clang --target=wasm32-wasi --sysroot=/usr -O2. Errors include the compiler
// output; a missing toolchain gives an error that points at
// scripts/install-deps.sh.
func C(ctx context.Context, srcFiles []string, out string) error {
	if len(srcFiles) == 0 {
		return errors.New("build c: no source files")
	}
	clang, err := exec.LookPath("clang")
	if err != nil {
		return fmt.Errorf("build c %s: clang not found (%s): %w", strings.Join(srcFiles, " "), installHint, err)
	}
	args := append([]string{
		"--target=wasm32-wasi",
		"--sysroot=" + Sysroot,
		"-O2",
		"-Wall",
		"-Wl,--strip-all",
		"-o", out,
	}, srcFiles...)
	cmd := exec.CommandContext(ctx, clang, args...)
	if err := run(cmd); err != nil {
		if !Available("c") {
			return fmt.Errorf("build c %s: %w (%s)", strings.Join(srcFiles, " "), err, installHint)
		}
		return fmt.Errorf("build c %s: %w", strings.Join(srcFiles, " "), err)
	}
	return nil
}

// Available reports whether the toolchain for lang is usable here: "go" when
// `go` is on PATH; "c" when clang and wasm-ld are on PATH and the wasm32-wasi
// sysroot (headers and libc) is installed. Any other lang is unavailable.
func Available(lang string) bool {
	switch lang {
	case "go":
		_, err := exec.LookPath("go")
		return err == nil
	case "c":
		for _, tool := range []string{"clang", "wasm-ld"} {
			if _, err := exec.LookPath(tool); err != nil {
				return false
			}
		}
		for _, f := range []string{
			filepath.Join(Sysroot, "include", "wasm32-wasi", "stdio.h"),
			filepath.Join(Sysroot, "lib", "wasm32-wasi", "libc.a"),
		} {
			if _, err := os.Stat(f); err != nil {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// run runs cmd and, on failure, returns an error carrying its combined output.
func run(cmd *exec.Cmd) error {
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(output.String())
		if msg == "" {
			return fmt.Errorf("%s: %w", filepath.Base(cmd.Path), err)
		}
		return fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, msg)
	}
	return nil
}
