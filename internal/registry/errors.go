package registry

import "errors"

var (
	// ErrNotFound means the function, secret or namespace does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a create found the record already present.
	ErrExists = errors.New("already exists")
	// ErrNotEmpty means a namespace still holds functions.
	ErrNotEmpty = errors.New("namespace not empty")
	// ErrInvalid means the input failed validation; the message says why.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means a compare-and-set write lost to concurrent writers
	// more times than it retries.
	ErrConflict = errors.New("too many concurrent updates")
)
