// Package templates holds the starting points `sigil new` writes: one
// directory per language, rendered with text/template ({{.Name}} is the
// function's name). The Go template vendors the guest SDK's source (added by
// the CLI from sdk.Source), so a new function builds offline with no
// dependency to fetch.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed all:c all:go
var files embed.FS

// Languages lists the templates, in the order `sigil new --help` shows them.
var Languages = []string{"go", "c"}

// FS returns the template tree of one language.
func FS(lang string) (fs.FS, error) { return fs.Sub(files, lang) }
