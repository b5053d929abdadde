// Package sdk carries the source of the Go guest SDK (package sdk/sigil) so
// `sigil new --lang go` can vendor it into a new function: the function then
// builds offline, with no module to fetch.
package sdk

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed sigil/*.go
var source embed.FS

// Source returns the SDK's non-test Go files, name → content.
func Source() (map[string][]byte, error) {
	entries, err := fs.ReadDir(source, "sigil")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		b, err := source.ReadFile("sigil/" + e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}
