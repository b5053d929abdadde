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
	// Pooled is a warm instance serving framed requests one after another
	// (pooled.go). Prepare and Compose treat it as OpenFaaS, which is how a
	// pooled module runs when it is invoked in a fresh instance.
	Pooled Kind = "pooled"
)

// Kinds lists the fresh-instance kinds, those Prepare and Compose
// implement, in the order error messages name them. Pooled is not among
// them: its codec is AppendRequest and ParseHead.
var Kinds = []Kind{OpenFaaS, WAGI}

// ParseKind accepts "openfaas", "wagi" and "pooled" (case-insensitive, surrounding
// spaces ignored); "" means OpenFaaS. Anything else is an error naming the
// valid values.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(OpenFaaS):
		return OpenFaaS, nil
	case string(WAGI):
		return WAGI, nil
	case string(Pooled):
		return Pooled, nil
	}
	return "", fmt.Errorf("abi: unknown ABI %q: valid values are %q, %q and %q", s, OpenFaaS, WAGI, Pooled)
}

// String returns the kind's name.
func (k Kind) String() string { return string(k) }
