package abi

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// envBuf builds "KEY=VALUE" strings into one shared, append-only byte buffer,
// so a whole environment costs one or two allocations instead of one per
// variable. Each string is made with unsafe.String over bytes that are never
// written again: append only writes past len, and when it moves to a larger
// array the old one stays alive (and unchanged) for as long as a string
// points into it.
type envBuf struct {
	buf []byte
	out []string
}

func newEnvBuf(bytes, vars int) envBuf {
	return envBuf{buf: make([]byte, 0, bytes), out: make([]string, 0, vars)}
}

// start begins an entry "KEY=" and returns its offset.
func (b *envBuf) start(key string) int {
	s := len(b.buf)
	b.buf = append(b.buf, key...)
	b.buf = append(b.buf, '=')
	return s
}

// end finishes the entry begun at s.
func (b *envBuf) end(s int) {
	b.out = append(b.out, unsafe.String(&b.buf[s], len(b.buf)-s))
}

// add appends KEY=VALUE with VALUE made safe for WASI (see appendValue).
func (b *envBuf) add(key, value string) {
	s := b.start(key)
	b.buf = appendValue(b.buf, value)
	b.end(s)
}

// addInt appends KEY=<decimal n>.
func (b *envBuf) addInt(key string, n int64) {
	s := b.start(key)
	b.buf = strconv.AppendInt(b.buf, n, 10)
	b.end(s)
}

// appendValue appends v, replacing NUL bytes by U+FFFD: WASI passes env and
// argv as NUL-terminated strings and wazero refuses to start a module whose
// environment contains one (a %00 in the path decodes to NUL).
func appendValue(dst []byte, v string) []byte {
	for {
		i := strings.IndexByte(v, 0)
		if i < 0 {
			return append(dst, v...)
		}
		dst = append(dst, v[:i]...)
		dst = append(dst, "\uFFFD"...)
		v = v[i+1:]
	}
}

// cleanArg is appendValue for a lone string.
func cleanArg(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// validEnvKey reports whether key can be passed to a WASI module: non-empty,
// without '=' or NUL.
func validEnvKey(key string) bool {
	return key != "" && strings.IndexByte(key, '=') < 0 && strings.IndexByte(key, 0) < 0
}

// sortedKeys returns m's valid keys sorted, using scratch when it is large
// enough so that small maps cost no allocation.
func sortedKeys(m map[string]string, scratch []string) []string {
	keys := scratch[:0]
	for k := range m {
		if validEnvKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
