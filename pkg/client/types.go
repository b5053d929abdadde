package client

import (
	"encoding/json"
	"time"
)

// The wire types below mirror github.com/openfaas/faas-provider/types field
// for field (camelCase JSON, omitempty), so faas-cli and the go-sdk
// understand Sigil's answers. Sigil's own additions are marked.

// FunctionResources is a memory/cpu pair, as in Kubernetes quantities ("128Mi", "100m").
type FunctionResources struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
}

// FunctionDeployment is the body of POST/PUT /system/functions.
type FunctionDeployment struct {
	Service                string             `json:"service"`
	Image                  string             `json:"image"`
	Namespace              string             `json:"namespace,omitempty"`
	EnvProcess             string             `json:"envProcess,omitempty"`
	EnvVars                map[string]string  `json:"envVars,omitempty"`
	Constraints            []string           `json:"constraints,omitempty"`
	Secrets                []string           `json:"secrets,omitempty"`
	Labels                 *map[string]string `json:"labels,omitempty"`
	Annotations            *map[string]string `json:"annotations,omitempty"`
	Limits                 *FunctionResources `json:"limits,omitempty"`
	Requests               *FunctionResources `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool               `json:"readOnlyRootFilesystem,omitempty"`
}

// FunctionUsage is the optional usage block of a FunctionStatus (?usage=1).
type FunctionUsage struct {
	CPU              float64 `json:"cpu,omitempty"`
	TotalMemoryBytes float64 `json:"totalMemoryBytes,omitempty"`
}

// FunctionStatus is one item of GET /system/functions and the body of
// GET /system/function/{name}.
type FunctionStatus struct {
	Name                   string             `json:"name"`
	Image                  string             `json:"image"`
	Namespace              string             `json:"namespace,omitempty"`
	EnvProcess             string             `json:"envProcess,omitempty"`
	EnvVars                map[string]string  `json:"envVars,omitempty"`
	Constraints            []string           `json:"constraints,omitempty"`
	Secrets                []string           `json:"secrets,omitempty"`
	Labels                 *map[string]string `json:"labels,omitempty"`
	Annotations            *map[string]string `json:"annotations,omitempty"`
	Limits                 *FunctionResources `json:"limits,omitempty"`
	Requests               *FunctionResources `json:"requests,omitempty"`
	ReadOnlyRootFilesystem bool               `json:"readOnlyRootFilesystem,omitempty"`
	InvocationCount        float64            `json:"invocationCount,omitempty"`
	Replicas               uint64             `json:"replicas,omitempty"`
	AvailableReplicas      uint64             `json:"availableReplicas,omitempty"`
	CreatedAt              time.Time          `json:"createdAt,omitempty"`
	Usage                  *FunctionUsage     `json:"usage,omitempty"`

	// Sigil additions.
	Digest string `json:"digest,omitempty"` // the artifact digest the image resolved to
	ABI    string `json:"abi,omitempty"`    // effective ABI: "openfaas" or "wagi"
}

// DeleteFunctionRequest is the body of DELETE /system/functions.
type DeleteFunctionRequest struct {
	FunctionName string `json:"functionName"`
	Namespace    string `json:"namespace,omitempty"`
}

// ScaleServiceRequest is the body of POST /system/scale-function/{name}.
type ScaleServiceRequest struct {
	ServiceName string `json:"serviceName"`
	Replicas    uint64 `json:"replicas"`
	Namespace   string `json:"namespace,omitempty"`
}

// Secret is the body of POST/PUT/DELETE /system/secrets; the list endpoint
// returns only Name and Namespace.
type Secret struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value,omitempty"`
	RawValue  []byte `json:"rawValue,omitempty"`
}

// FunctionNamespace is the body of /system/namespace/{ns}.
type FunctionNamespace struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// VersionInfo describes a build.
type VersionInfo struct {
	CommitMessage string `json:"commit_message,omitempty"`
	SHA           string `json:"sha"`
	Release       string `json:"release"`
}

// ProviderInfo is the provider block of GET /system/info.
type ProviderInfo struct {
	Name          string       `json:"provider"`
	Orchestration string       `json:"orchestration"`
	Version       *VersionInfo `json:"version"`
}

// GatewayInfo is the body of GET /system/info.
type GatewayInfo struct {
	Provider *ProviderInfo `json:"provider"`
	Version  *VersionInfo  `json:"version"`
	Arch     string        `json:"arch,omitempty"`
}

// LogMessage is one line of GET /system/logs (application/x-ndjson).
type LogMessage struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Instance  string    `json:"instance"`
	Timestamp time.Time `json:"timestamp"`
	Text      string    `json:"text"`
}

// Artifact is Sigil's answer to POST /system/artifacts and an item of
// GET /system/artifacts.
type Artifact struct {
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	ABI     string    `json:"abi"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created,omitempty"`

	// Set by a signed push: the key that signed, the Sigstore bundle with
	// its transparency-log entry, and that entry's log index.
	SignerKeyID string          `json:"signerKeyId,omitempty"`
	Bundle      json.RawMessage `json:"bundle,omitempty"`
	LogIndex    *int64          `json:"logIndex,omitempty"`
}

// APIError is the JSON error body of Sigil's own routes
// ({"error": "...", "code": "..."}); OpenFaaS routes answer plain text.
type APIError struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}
