package artifact

import "errors"

var (
	// ErrNotFound means no artifact (or tag) matches the digest or reference.
	ErrNotFound = errors.New("artifact not found")
	// ErrInvalidRef means a string is not a valid image reference or digest.
	ErrInvalidRef = errors.New("invalid image reference")
	// ErrCorrupt means stored bytes no longer hash to their digest.
	ErrCorrupt = errors.New("artifact corrupt: digest mismatch")
	// ErrInvalidArtifact means a module was rejected before storing (empty or
	// larger than MaxSize).
	ErrInvalidArtifact = errors.New("invalid artifact")
)
