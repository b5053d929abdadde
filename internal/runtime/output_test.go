package runtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("a", maxStderrLine)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{name: "lines", writes: []string{"a\nb\n"}, want: []string{"a", "b"}},
		{name: "split across writes", writes: []string{"he", "llo\nwor", "ld\n"}, want: []string{"hello", "world"}},
		{name: "trailing partial", writes: []string{"x\ny"}, want: []string{"x", "y"}},
		{name: "empty lines kept", writes: []string{"\n\n"}, want: []string{"", ""}},
		{name: "exactly max", writes: []string{long + "\n"}, want: []string{long}},
		{name: "long line split in one write", writes: []string{long + "bc\n"}, want: []string{long, "bc"}},
		{name: "long line split across writes", writes: []string{long[:10], long[10:] + "b", "c"}, want: []string{long, "bc"}},
		{name: "nothing", writes: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			w := &lineWriter{emit: func(l string) { got = append(got, l) }}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.flush()
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("lines = %.100q, want %.100q", got, tt.want)
			}
		})
	}
}

func TestStdoutBuffer(t *testing.T) {
	tests := []struct {
		name     string
		max      int64
		writes   []string
		want     string
		overflow bool
	}{
		{name: "fits", max: 10, writes: []string{"hello", "world"}, want: "helloworld"},
		{name: "cut at the cap", max: 7, writes: []string{"hello", "world"}, want: "hellowo", overflow: true},
		{name: "writes after overflow fail", max: 3, writes: []string{"abcd", "e"}, want: "abc", overflow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stopped := 0
			w := &stdoutBuffer{max: tt.max, stop: func() { stopped++ }}
			var lastErr error
			for _, s := range tt.writes {
				_, lastErr = w.Write([]byte(s))
			}
			if string(w.buf) != tt.want || w.overflow != tt.overflow {
				t.Fatalf("buf = %q overflow = %v, want %q %v", w.buf, w.overflow, tt.want, tt.overflow)
			}
			if tt.overflow && (stopped != 1 || !errors.Is(lastErr, errStdoutFull)) {
				t.Fatalf("stop called %d times, last error %v; want once and errStdoutFull", stopped, lastErr)
			}
		})
	}
}
