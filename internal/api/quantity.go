package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseMemory reads a Kubernetes-style memory quantity as OpenFaaS users
// write it in limits.memory: a plain byte count, or a number with one of the
// suffixes Ki Mi Gi Ti (powers of 1024) or k K M G T (powers of 1000).
// Fractions are allowed ("1.5Gi"). The result must fit in 4 GiB, the most a
// wasm32 linear memory can address.
func parseMemory(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty memory quantity")
	}
	mult := 1.0
	suffixes := []struct {
		s string
		m float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}}
	num := s
	for _, sf := range suffixes {
		if strings.HasSuffix(s, sf.s) {
			num, mult = strings.TrimSuffix(s, sf.s), sf.m
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || strings.ContainsAny(num, "eEinfINFxX+") {
		return 0, fmt.Errorf("invalid memory quantity %q: want e.g. 64Mi, 1Gi or 1048576", s)
	}
	b := v * mult
	if b > 1<<32 {
		return 0, fmt.Errorf("memory quantity %q exceeds the 4Gi a wasm32 module can address", s)
	}
	if b < 64<<10 {
		return 0, fmt.Errorf("memory quantity %q is below one 64Ki Wasm page", s)
	}
	return uint64(b), nil
}

// parseTimeout reads exec_timeout as the OpenFaaS watchdogs do: a Go
// duration ("10s", "1m30s") or a bare number of seconds ("30").
func parseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("invalid exec_timeout %q: must be positive", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid exec_timeout %q: want a duration like 30s or a number of seconds", s)
	}
	return d, nil
}
