package api

import (
	"testing"
	"time"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"128Mi", 128 << 20, false},
		{"1Gi", 1 << 30, false},
		{"1.5Gi", 3 << 29, false},
		{"64Ki", 64 << 10, false},
		{"4Gi", 4 << 30, false},
		{"20M", 20e6, false},
		{"100k", 100e3, false},
		{"1048576", 1 << 20, false},
		{" 64Mi ", 64 << 20, false},
		{"", 0, true},
		{"lots", 0, true},
		{"-1Mi", 0, true},
		{"5Gi", 0, true}, // beyond wasm32
		{"1Ki", 0, true}, // below one page
		{"1e9", 0, true}, // exponents are not quantities users write
		{"Inf", 0, true},
		{"NaNMi", 0, true},
		{"0x10Mi", 0, true},
	}
	for _, tt := range tests {
		got, err := parseMemory(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"128Mi", "1.5Gi", "20M", "1048576", "", "x", "4Gi", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseMemory(s)
		if err != nil {
			return
		}
		if b < 64<<10 || b > 1<<32 {
			t.Fatalf("parseMemory(%q) = %d outside [64Ki, 4Gi]", s, b)
		}
	})
}

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30", 30 * time.Second, false},
		{"30s", 30 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"250ms", 250 * time.Millisecond, false},
		{"0", 0, true},
		{"-5s", 0, true},
		{"soon", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseTimeout(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSplitFunction(t *testing.T) {
	tests := []struct{ in, name, ns string }{
		{"echo", "echo", "openfaas-fn"},
		{"echo.team1", "echo", "team1"},
		{"a.b.c", "a.b", "c"}, // the last dot wins, as in OpenFaaS
	}
	for _, tt := range tests {
		name, ns := splitFunction(tt.in)
		if name != tt.name || ns != tt.ns {
			t.Errorf("splitFunction(%q) = %q, %q; want %q, %q", tt.in, name, ns, tt.name, tt.ns)
		}
	}
}

func TestMinReplicas(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   uint64
	}{
		{nil, 1},
		{map[string]string{"com.openfaas.scale.min": "3"}, 3},
		{map[string]string{"com.openfaas.scale.min": "0"}, 1},
		{map[string]string{"com.openfaas.scale.min": "x"}, 1},
	}
	for _, tt := range tests {
		if got := minReplicas(tt.labels); got != tt.want {
			t.Errorf("minReplicas(%v) = %d, want %d", tt.labels, got, tt.want)
		}
	}
}
