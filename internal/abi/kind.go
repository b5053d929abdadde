package abi

import (
	"fmt"
	"strings"
)

// Kind names a request ABI.
type Kind string

const (
	// OpenFaaS is the classic watchdog: body on stdin, stdout is the body,
	// Http_* env.
	OpenFaaS Kind = "openfaas"
	// WAGI is CGI 1.1 as WAGI/Spin implement it.
	WAGI Kind = "wagi"
)

// Kinds lists every valid Kind, in the order error messages name them.
var Kinds = []Kind{OpenFaaS, WAGI}

// ParseKind accepts "openfaas" and "wagi" (case-insensitive, surrounding
// spaces ignored); "" means OpenFaaS. Anything else is an error naming the
// valid values.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(OpenFaaS):
		return OpenFaaS, nil
	case string(WAGI):
		return WAGI, nil
	}
	return "", fmt.Errorf("abi: unknown ABI %q: valid values are %q and %q", s, OpenFaaS, WAGI)
}

// String returns the kind's name.
func (k Kind) String() string { return string(k) }
