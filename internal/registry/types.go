package registry

import (
	"maps"
	"slices"
	"time"
)

// DefaultNamespace is the namespace used when none is given; it always exists.
const DefaultNamespace = "openfaas-fn"

// Resources are the limits or requests of a function, as OpenFaaS strings.
type Resources struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
}

// Function is the stored record of a deployed function. Its JSON form is ours,
// not the OpenFaaS wire type.
type Function struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Image     string `json:"image"`
	// Digest is the artifact the image resolved to at deploy time.
	Digest string `json:"digest"`
	// ABI is the artifact's ABI at deploy time (the api applies the
	// com.sigil.abi annotation override).
	ABI                    string            `json:"abi,omitempty"`
	EnvProcess             string            `json:"envProcess,omitempty"`
	EnvVars                map[string]string `json:"envVars,omitempty"`
	Constraints            []string          `json:"constraints,omitempty"`
	Secrets                []string          `json:"secrets,omitempty"`
	Labels                 map[string]string `json:"labels,omitempty"`
	Annotations            map[string]string `json:"annotations,omitempty"`
	Limits                 *Resources        `json:"limits,omitempty"`
	Requests               *Resources        `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool              `json:"readOnlyRootFilesystem,omitempty"`
	// Replicas is the desired warm capacity, set by ScaleFunction.
	Replicas  uint64    `json:"replicas"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Revision is the KV revision of this record, filled on read.
	Revision uint64 `json:"-"`
}

// Clone returns a deep copy, so the caller may modify maps and slices.
func (f Function) Clone() Function {
	f.EnvVars = maps.Clone(f.EnvVars)
	f.Constraints = slices.Clone(f.Constraints)
	f.Secrets = slices.Clone(f.Secrets)
	f.Labels = maps.Clone(f.Labels)
	f.Annotations = maps.Clone(f.Annotations)
	if f.Limits != nil {
		l := *f.Limits
		f.Limits = &l
	}
	if f.Requests != nil {
		r := *f.Requests
		f.Requests = &r
	}
	return f
}

// Secret is a named value mounted into functions of its namespace.
type Secret struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Value     []byte    `json:"value"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Namespace groups functions and secrets.
type Namespace struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
}

// EventKind says what happened to a function.
type EventKind int

const (
	// Put: the function was created, updated or scaled.
	Put EventKind = iota + 1
	// Delete: the function was removed.
	Delete
)

func (k EventKind) String() string {
	switch k {
	case Put:
		return "put"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Event is a function change delivered to Subscribe callbacks. For Delete,
// Function is the last version this node knew (so Digest is set when the
// function was seen before), or just Name and Namespace otherwise.
type Event struct {
	Kind     EventKind
	Function Function
}
