// Package natsutil holds the small JetStream helpers shared by the packages
// that keep state on the bus (registry, artifact): creating buckets with the
// settings this project needs (file storage, AllowDirect off) and reading a
// consistent snapshot of a KV bucket.
//
// The sub-package natstest starts an embedded server for tests.
package natsutil
