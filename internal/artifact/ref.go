package artifact

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

const digestPrefix = "sha256:"

// ParseDigest reports whether s is exactly "sha256:" followed by 64 lowercase
// hex digits, and returns it unchanged if so.
func ParseDigest(s string) (string, bool) {
	if len(s) != len(digestPrefix)+64 || !strings.HasPrefix(s, digestPrefix) {
		return "", false
	}
	for _, c := range s[len(digestPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return s, true
}

// NormalizeRef parses an image reference the way docker does
// (reference.ParseNormalizedNamed, then TagNameOnly) and returns its familiar
// form: "hello" → "hello:latest", "docker.io/library/hello:1" → "hello:1",
// "ghcr.io/acme/hello:1.0" unchanged. A bare digest is returned as is; a
// reference carrying a digest is returned in familiar form without adding a
// tag, and only sha256 digests are accepted. Errors wrap ErrInvalidRef.
//
// The output is a fixed point: NormalizeRef(out) == out.
func NormalizeRef(ref string) (string, error) {
	if d, ok := ParseDigest(ref); ok {
		return d, nil
	}
	if ref == "" {
		return "", fmt.Errorf("%w: empty reference", ErrInvalidRef)
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidRef, ref, err)
	}
	if c, ok := named.(reference.Canonical); ok {
		if _, ok := ParseDigest(c.Digest().String()); !ok {
			return "", fmt.Errorf("%w: %q: only sha256 digests are supported", ErrInvalidRef, ref)
		}
		return reference.FamiliarString(named), nil
	}
	out := reference.FamiliarString(reference.TagNameOnly(named))
	if _, ok := ParseDigest(out); ok {
		// "docker.io/library/sha256:<hex>" would familiarize into a string
		// that reads as a bare digest.
		return "", fmt.Errorf("%w: %q is ambiguous with a digest", ErrInvalidRef, ref)
	}
	return out, nil
}

// splitDigest returns the sha256 digest a reference pins, if any:
// "sha256:<hex>" or "name[:tag]@sha256:<hex>".
func splitDigest(ref string) (string, bool) {
	if d, ok := ParseDigest(ref); ok {
		return d, true
	}
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		return ParseDigest(ref[i+1:])
	}
	return "", false
}
