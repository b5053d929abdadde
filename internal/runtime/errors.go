package runtime

import "errors"

var (
	// ErrTimeout means the guest ran longer than Spec.Timeout and was stopped.
	ErrTimeout = errors.New("runtime: function timed out")
	// ErrOutputLimit means the guest wrote more than Spec.MaxStdout bytes to
	// stdout; it was stopped at that point.
	ErrOutputLimit = errors.New("runtime: stdout limit exceeded")
	// ErrMemoryLimit means the module needs more linear memory than
	// Spec.MemoryLimit: either its declared minimum is above the limit, or a
	// memory.grow was refused and the guest then trapped.
	ErrMemoryLimit = errors.New("runtime: memory limit exceeded")
	// ErrDigestMismatch means the module bytes do not hash to the digest.
	ErrDigestMismatch = errors.New("runtime: digest mismatch")
	// ErrInvalidModule means the bytes are not a valid WASI preview-1 command
	// module that this runtime can run.
	ErrInvalidModule = errors.New("runtime: invalid module")
	// ErrNotFound means Config.Load had no module for the digest.
	ErrNotFound = errors.New("runtime: module not found")
	// ErrBusy means no instance slot became free before the context ended.
	ErrBusy = errors.New("runtime: too many concurrent instances")
	// ErrClosed means the Runtime was closed.
	ErrClosed = errors.New("runtime: closed")
)

// TrapError is a guest trap (unreachable, out-of-bounds memory access,
// integer divide by zero, stack overflow...). Msg is wazero's message,
// e.g. "wasm error: unreachable".
type TrapError struct{ Msg string }

func (e *TrapError) Error() string { return "runtime: guest trapped: " + e.Msg }
