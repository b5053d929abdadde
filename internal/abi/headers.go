package abi

import (
	"net/http"
	"slices"
	"strings"
)

// hdr is one request header on its way to an environment variable. key is
// the header name as found in http.Header (or a pseudo-header the gateway
// keeps outside it, such as Host); its variable name is a mapping of key.
type hdr struct {
	key  string
	vals []string
}

// mapByte maps one header-name byte to its environment-name byte: '-'
// becomes '_' and, for CGI, letters are upper-cased.
func mapByte(c byte, upper bool) byte {
	if c == '-' {
		return '_'
	}
	if upper && 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// cmpMapped compares the environment names of header names a and b without
// building them.
func cmpMapped(a, b string, upper bool) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := mapByte(a[i], upper), mapByte(b[i], upper)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// cmpMappedLit compares the environment name of header name h with the
// literal name lit.
func cmpMappedLit(h, lit string, upper bool) int {
	n := min(len(h), len(lit))
	for i := 0; i < n; i++ {
		x, y := mapByte(h[i], upper), lit[i]
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(h) - len(lit)
}

// appendMapped appends the environment name of header name key.
func appendMapped(dst []byte, key string, upper bool) []byte {
	for i := 0; i < len(key); i++ {
		dst = append(dst, mapByte(key[i], upper))
	}
	return dst
}

// collectHeaders gathers h's non-empty headers into scratch, leaving out
// those for which drop reports true.
func collectHeaders(h http.Header, scratch []hdr, drop func(key string) bool) []hdr {
	hs := scratch[:0]
	for k, v := range h {
		if len(v) == 0 || !validHeaderName(k) || drop(k) {
			continue
		}
		hs = append(hs, hdr{key: k, vals: v})
	}
	return hs
}

// sortHeaders sorts hs by environment name (ties by header name, so the
// result is deterministic) and removes headers whose environment name
// repeats, keeping the last: "X-Id" and "X_Id" would both become Http_X_Id.
func sortHeaders(hs []hdr, upper bool) []hdr {
	slices.SortFunc(hs, func(a, b hdr) int {
		if c := cmpMapped(a.key, b.key, upper); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	out := hs[:0]
	for i := range hs {
		if i+1 < len(hs) && cmpMapped(hs[i].key, hs[i+1].key, upper) == 0 {
			continue
		}
		out = append(out, hs[i])
	}
	return out
}

// hasMapped reports whether sorted hs holds a header whose environment name
// (without prefix) is name.
func hasMapped(hs []hdr, name string, upper bool) bool {
	_, ok := slices.BinarySearchFunc(hs, name, func(h hdr, t string) int {
		return cmpMappedLit(h.key, t, upper)
	})
	return ok
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.6.2), the
// only names that can become environment variable names safely.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// visibleASCII reports whether v holds only visible ASCII and tabs, the
// bytes the Rust http crate's HeaderValue::to_str and from_str accept.
func visibleASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}
