package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	if err := os.WriteFile(a, []byte("hello world\nfoo  bar\tbaz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	const sha512abc = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
	const sha512empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"

	tests := []struct {
		name       string
		argv       []string
		env        []string
		stdin      string
		wantOut    string
		wantErrSub string
		wantCode   int
	}{
		{name: "cat stdin", argv: []string{"cat"}, stdin: "a\x00b\n", wantOut: "a\x00b\n"},
		{name: "cat files", argv: []string{"cat", a, b}, wantOut: "hello world\nfoo  bar\tbaz\nx"},
		{name: "cat dash is stdin", argv: []string{"cat", b, "-"}, stdin: "y", wantOut: "xy"},
		{name: "cat missing file", argv: []string{"cat", missing, b}, wantOut: "x", wantErrSub: "cat: " + missing + ": no such file", wantCode: 1},
		{name: "cat full path argv0", argv: []string{"/bin/cat", b}, wantOut: "x"},
		{name: "echo", argv: []string{"echo", "a", "b  c"}, wantOut: "a b  c\n"},
		{name: "echo no args", argv: []string{"echo"}, wantOut: "\n"},
		{name: "env", argv: []string{"env"}, env: []string{"B=2", "A=1"}, wantOut: "B=2\nA=1\n"},
		{name: "sha512sum stdin", argv: []string{"sha512sum"}, stdin: "abc", wantOut: sha512abc + "  -\n"},
		{name: "sha512sum empty", argv: []string{"sha512sum"}, wantOut: sha512empty + "  -\n"},
		{name: "sha512sum file", argv: []string{"sha512sum", b}, wantOut: "a4abd4448c49562d828115d13a1fccea927f52b4d5459297f8b43e42da89238bc13626e43dcb38ddb082488927ec904fb42057443983e88585179d50551afe62  " + b + "\n"},
		{name: "wc stdin", argv: []string{"wc"}, stdin: "hello world\nfoo  bar\tbaz\n", wantOut: "      2       5      25\n"},
		{name: "wc empty", argv: []string{"wc"}, wantOut: "      0       0       0\n"},
		{name: "wc no trailing newline", argv: []string{"wc"}, stdin: "a b", wantOut: "      0       2       3\n"},
		{name: "wc file", argv: []string{"wc", a}, wantOut: " 2  5 25 " + a + "\n"},
		{name: "wc files total", argv: []string{"wc", a, b}, wantOut: " 2  5 25 " + a + "\n 0  1  1 " + b + "\n 2  6 26 total\n"},
		{name: "multi-call name", argv: []string{"coreutils.wasm", "echo", "hi"}, wantOut: "hi\n"},
		{name: "unknown applet", argv: []string{"ls"}, wantErrSub: `unknown applet "ls"`, wantCode: 2},
		{name: "bare coreutils", argv: []string{"coreutils"}, wantErrSub: "unknown applet", wantCode: 2},
		{name: "no argv", argv: nil, wantErrSub: "unknown applet", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.argv, tt.env, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if tt.wantErrSub == "" && errOut.Len() > 0 {
				t.Errorf("unexpected stderr %q", errOut.String())
			}
			if tt.wantErrSub != "" && !strings.Contains(strings.ToLower(errOut.String()), strings.ToLower(tt.wantErrSub)) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantErrSub)
			}
		})
	}
}
