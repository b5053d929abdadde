// Package cli owns the client-side commands of the sigil binary (push,
// deploy, invoke, list, describe, logs, secret, namespace, login, ...): flag
// parsing, stack-file (sigil.yml / stack.yml) loading, credential storage and
// human-readable output. It talks to a gateway only through pkg/client and
// holds no server logic; `sigil up` is wired in by the caller of
// NewRootCommand.
package cli
