// Package e2e holds black-box tests: they build the real `sigil` binary and
// the example and hostile guests from this repository's sources, boot nodes
// on random ports with temporary data dirs, and drive them over HTTP exactly
// as faas-cli does (and with the sigil CLI).
package e2e
