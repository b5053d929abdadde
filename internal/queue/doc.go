// Package queue owns durable asynchronous invocation: the JetStream
// work-queue stream that holds accepted calls, the workers that run them
// through the node's single invocation path, retries with exponential
// backoff and jitter, the dead-letter stream, cancellation, callbacks (with
// their own retries), large request bodies kept in an object store bucket,
// and the async metrics.
//
// A call is acknowledged to its client only once JetStream has stored it;
// a worker acknowledges the message only after the call has finished and
// its callback was attempted, so a crash re-runs calls (at least once) and
// never loses one.
package queue
