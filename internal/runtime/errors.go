package runtime

import (
	"errors"
	"fmt"
)

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

var (
	// ErrQueueFull means every instance of a pool was busy and its queue
	// of waiting requests was full. The error is a *QueueFullError.
	ErrQueueFull = errors.New("runtime: pool queue full")
	// ErrProtocol means a pooled guest broke the frame protocol (wrote
	// something that is not a frame in order, sent no hello at start, or
	// answered without reading its whole request). Its instance is
	// discarded.
	ErrProtocol = errors.New("runtime: pooled guest broke the frame protocol")
	// ErrInstanceExited means a pooled instance's _start returned (the guest
	// exited, e.g. a Go panic or os.Exit) while it served a request or
	// before it sent its hello.
	ErrInstanceExited = errors.New("runtime: pooled instance exited")
	// ErrAborted means a pooled guest ended a response early, saying why
	// (the SDK does so when the handler panics after the head went out).
	// The instance stays in service.
	ErrAborted = errors.New("runtime: pooled guest aborted the response")
)

// QueueFullError is returned by Pool.Do when no instance was free and
// Limit requests were already waiting. It matches ErrQueueFull and ErrBusy.
// MaxInflight says the limit is the function's max_inflight (the gateway
// answers 429) rather than the default queue bound (503 + Retry-After).
type QueueFullError struct {
	Limit       int
	MaxInflight bool
}

func (e *QueueFullError) Error() string {
	if e.MaxInflight {
		return fmt.Sprintf("runtime: %d requests already waiting (max_inflight)", e.Limit)
	}
	return fmt.Sprintf("runtime: pool queue full (%d waiting)", e.Limit)
}

// Is makes errors.Is match ErrQueueFull and ErrBusy.
func (e *QueueFullError) Is(target error) bool { return target == ErrQueueFull || target == ErrBusy }
