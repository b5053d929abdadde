// Package k8s checks the Helm chart (deploy/helm/sigil) and the plain
// manifests (deploy/k8s) without a Kubernetes cluster: helm lint, helm
// template through Helm's Go packages, and strict decoding of every rendered
// object into its k8s.io/api type, so an unknown or misspelt field fails.
//
// It is a nested module so that Helm and the Kubernetes API types stay out
// of the main module and the sigil binary.
package k8s
