package registry

import (
	"fmt"
	"regexp"
	"strings"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func validateLabel(kind, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: %s name is required", ErrInvalid, kind)
	case len(s) > 63:
		return fmt.Errorf("%w: %s name %q is longer than 63 characters", ErrInvalid, kind, s)
	case !dnsLabel.MatchString(s):
		return fmt.Errorf("%w: %s name %q must consist of lowercase letters, digits and '-', and start and end with a letter or digit", ErrInvalid, kind, s)
	}
	return nil
}

// ValidateFunctionName checks that s is a DNS-1123 label (at most 63 of
// [a-z0-9-], starting and ending alphanumeric).
func ValidateFunctionName(s string) error { return validateLabel("function", s) }

// ValidateNamespaceName applies the same DNS-1123 label rule to namespaces.
func ValidateNamespaceName(s string) error { return validateLabel("namespace", s) }

// ValidateSecretName checks a secret name: 1–253 of [A-Za-z0-9._-], no "..",
// not starting or ending with '.'. Secrets become file names under
// /var/openfaas/secrets, so path tricks are ruled out.
func ValidateSecretName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: secret name is required", ErrInvalid)
	case len(s) > 253:
		return fmt.Errorf("%w: secret name is longer than 253 characters", ErrInvalid)
	case strings.Contains(s, ".."):
		return fmt.Errorf("%w: secret name %q must not contain \"..\"", ErrInvalid, s)
	case s[0] == '.' || s[len(s)-1] == '.':
		return fmt.Errorf("%w: secret name %q must not start or end with '.'", ErrInvalid, s)
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: secret name %q may only contain letters, digits, '.', '_' and '-'", ErrInvalid, s)
		}
	}
	return nil
}
