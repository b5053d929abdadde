// Package trigger owns the non-HTTP ways a function is called, following
// OpenFaaS's connector annotations: `topic: cron-function` with
// `schedule: "*/5 * * * *"` runs it on a cron schedule, and any other topic
// (comma-separated NATS subjects) runs it for every message published on
// those subjects on the node's NATS, the message becoming the request body.
// Every fired trigger becomes a durable async call in the queue, so it gets
// retries, dead letters, logs and metrics like any other call.
package trigger
