package artifact

import (
	"errors"
	"strings"
	"testing"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestNormalizeRef(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "hello", want: "hello:latest"},
		{in: "hello:1", want: "hello:1"},
		{in: "hello:V1.0", want: "hello:V1.0"},
		{in: "docker.io/library/hello:1", want: "hello:1"},
		{in: "docker.io/functions/alpine:latest", want: "functions/alpine:latest"},
		{in: "index.docker.io/functions/alpine", want: "functions/alpine:latest"},
		{in: "library/hello", want: "hello:latest"},
		{in: "ghcr.io/acme/hello:1.0", want: "ghcr.io/acme/hello:1.0"},
		{in: "localhost:5000/hello", want: "localhost:5000/hello:latest"},
		{in: "hello.wasm:latest", want: "hello.wasm:latest"},
		{in: "sha256:" + hexA, want: "sha256:" + hexA},
		{in: "hello@sha256:" + hexA, want: "hello@sha256:" + hexA},
		{in: "docker.io/library/hello:1@sha256:" + hexA, want: "hello:1@sha256:" + hexA},
		{in: "ghcr.io/acme/hello@sha256:" + hexA, want: "ghcr.io/acme/hello@sha256:" + hexA},
		{in: "x:latest-fatal: not a git repository", wantErr: true},
		{in: "Hello", wantErr: true},
		{in: "", wantErr: true},
		{in: "hello:", wantErr: true},
		{in: "hello@sha256:abc", wantErr: true},
		{in: "hello@sha512:" + hexA + hexA, wantErr: true},
		{in: hexA, wantErr: true},
		{in: "docker.io/library/sha256:" + hexA, wantErr: true},
		{in: "hello world", wantErr: true},
	}
	for i, tt := range tests {
		got, err := NormalizeRef(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidRef) {
				t.Errorf("%d: NormalizeRef(%q) = %q, %v; want ErrInvalidRef", i, tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%d: NormalizeRef(%q) = %q, %v; want %q", i, tt.in, got, err, tt.want)
		}
	}
}

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"sha256:" + hexA, true},
		{"sha256:" + strings.ToUpper(hexA), false},
		{"sha256:" + hexA[1:], false},
		{"sha256:" + hexA + "a", false},
		{"sha512:" + hexA, false},
		{hexA, false},
		{"sha256:" + hexA[1:] + "g", false},
		{"", false},
	}
	for i, tt := range tests {
		got, ok := ParseDigest(tt.in)
		if ok != tt.ok || (ok && got != tt.in) {
			t.Errorf("%d: ParseDigest(%q) = %q, %v; want ok=%v", i, tt.in, got, ok, tt.ok)
		}
	}
}

func FuzzNormalizeRef(f *testing.F) {
	for _, s := range []string{
		"hello", "hello:1", "docker.io/library/hello:1", "ghcr.io/acme/hello:1.0",
		"sha256:" + hexA, "hello@sha256:" + hexA, "x:latest-fatal: not a git repository",
		"Hello", "localhost:5000/a/b:c", "docker.io/library/sha256:" + hexA, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeRef(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("NormalizeRef(%q) error %v does not wrap ErrInvalidRef", in, err)
			}
			return
		}
		again, err := NormalizeRef(out)
		if err != nil || again != out {
			t.Fatalf("not a fixed point: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}
