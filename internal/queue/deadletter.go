package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Failure says why a call was dead-lettered.
type Failure struct {
	Status   int       `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failedAt"`
	// Response is the start of the last answer's body (at most 1 KiB).
	Response string `json:"response,omitempty"`
}

// DeadLetter is one call in the dead-letter stream.
type DeadLetter struct {
	Request  Request // Body is set only by DeadLetter (one), not by the list
	Failure  Failure
	BodySize int64
	Seq      uint64
}

// Filter narrows dead letters to a namespace and optionally a function.
type Filter struct {
	Namespace string // "" = every namespace (then Name is ignored)
	Name      string
}

func (f Filter) subject() string {
	switch {
	case f.Namespace == "":
		return deadSubjects + ">"
	case f.Name == "":
		return deadSubjects + f.Namespace + ".>"
	}
	return deadSubjects + f.Namespace + "." + f.Name + ".*"
}

func (q *Queue) deadLetter(ctx context.Context, j *job, res Result) error {
	body := res.Body
	if len(body) > 1024 {
		body = body[:1024]
	}
	fail, err := json.Marshal(Failure{Status: res.Status, Reason: res.Reason, Attempts: j.attempt,
		FailedAt: time.Now().UTC(), Response: string(body)})
	if err != nil {
		return err
	}
	dj := *j
	dj.notBefore = time.Time{}
	m, err := dj.encode(deadSubject(j.req.Namespace, j.req.Name, j.req.CallID))
	if err != nil {
		return err
	}
	m.Header.Set(HdrFailure, string(fail))
	msgID := "dead:" + j.req.CallID + ":" + strconv.FormatUint(j.seq, 10)
	if _, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(DeadStreamName)); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	return nil
}

func decodeDead(h nats.Header, data []byte, seq uint64) (DeadLetter, error) {
	j, err := decodeJob(h, data)
	if err != nil {
		return DeadLetter{}, err
	}
	d := DeadLetter{Request: j.req, BodySize: j.bodySize, Seq: seq}
	if v := h.Get(HdrFailure); v != "" {
		if err := json.Unmarshal([]byte(v), &d.Failure); err != nil {
			return DeadLetter{}, fmt.Errorf("decode failure: %w", err)
		}
	}
	return d, nil
}

// DeadLetters lists dead letters matching f, oldest first, at most limit
// (0 = 1000). Bodies are not loaded.
func (q *Queue) DeadLetters(ctx context.Context, f Filter, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 1000
	}
	cons, err := q.dead.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{f.subject()},
		HeadersOnly:    true,
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	pending := int(cons.CachedInfo().NumPending)
	out := make([]DeadLetter, 0, min(pending, limit))
	for len(out) < min(pending, limit) {
		batch, err := cons.Fetch(min(pending, limit)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			d, err := decodeDead(m.Headers(), nil, md.Sequence.Stream)
			if err != nil {
				q.log.Warn("async: undecodable dead letter", "seq", md.Sequence.Stream, "err", err)
				continue
			}
			d.Request.Body = nil
			out = append(out, d)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}

// DeadLetter returns one dead letter with its body.
func (q *Queue) DeadLetter(ctx context.Context, callID string) (DeadLetter, error) {
	if !ValidCallID(callID) {
		return DeadLetter{}, fmt.Errorf("dead letter %q: %w", callID, ErrNotFound)
	}
	raw, err := q.dead.GetLastMsgForSubject(ctx, deadSubjects+"*.*."+callID)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return DeadLetter{}, fmt.Errorf("dead letter %s: %w", callID, ErrNotFound)
		}
		return DeadLetter{}, fmt.Errorf("dead letter %s: %w", callID, err)
	}
	d, err := decodeDead(raw.Header, raw.Data, raw.Sequence)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %s: %w", callID, err)
	}
	if obj := raw.Header.Get(HdrBodyObject); obj != "" {
		j := &job{bodyObj: obj}
		if err := q.loadBody(ctx, j); err != nil {
			return DeadLetter{}, fmt.Errorf("dead letter %s: %w", callID, err)
		}
		d.Request.Body = j.req.Body
	}
	return d, nil
}

// Redrive puts a dead letter back on the queue with a fresh set of
// attempts and removes it from the dead letters.
func (q *Queue) Redrive(ctx context.Context, callID string) error {
	if !ValidCallID(callID) {
		return fmt.Errorf("redrive %q: %w", callID, ErrNotFound)
	}
	raw, err := q.dead.GetLastMsgForSubject(ctx, deadSubjects+"*.*."+callID)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("redrive %s: %w", callID, ErrNotFound)
		}
		return fmt.Errorf("redrive %s: %w", callID, err)
	}
	j, err := decodeJob(raw.Header, raw.Data)
	if err != nil {
		return fmt.Errorf("redrive %s: %w", callID, err)
	}
	j.attempt, j.notBefore = 1, time.Time{}
	q.forgetCancel(callID)
	if err := q.publish(ctx, j, "redrive:"+callID+":"+strconv.FormatUint(raw.Sequence, 10)); err != nil {
		return fmt.Errorf("redrive %s: %w", callID, err)
	}
	if err := q.dead.DeleteMsg(ctx, raw.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("redrive %s: remove dead letter: %w", callID, err)
	}
	q.log.Info("async dead letter re-driven", "call_id", callID, "function", j.req.Label())
	return nil
}

// Purge deletes one dead letter and its stored body.
func (q *Queue) Purge(ctx context.Context, callID string) error {
	if !ValidCallID(callID) {
		return fmt.Errorf("purge %q: %w", callID, ErrNotFound)
	}
	raw, err := q.dead.GetLastMsgForSubject(ctx, deadSubjects+"*.*."+callID)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("purge %s: %w", callID, ErrNotFound)
		}
		return fmt.Errorf("purge %s: %w", callID, err)
	}
	return q.purgeSeq(ctx, raw.Sequence, raw.Header.Get(HdrBodyObject))
}

func (q *Queue) purgeSeq(ctx context.Context, seq uint64, bodyObj string) error {
	if err := q.dead.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("purge dead letter %d: %w", seq, err)
	}
	if bodyObj != "" {
		q.deleteBody(ctx, bodyObj)
	}
	return nil
}

// RedriveAll re-drives every dead letter matching f; it returns how many.
func (q *Queue) RedriveAll(ctx context.Context, f Filter) (int, error) {
	list, err := q.DeadLetters(ctx, f, 100000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		if err := q.Redrive(ctx, d.Request.CallID); err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// PurgeAll deletes every dead letter matching f; it returns how many.
func (q *Queue) PurgeAll(ctx context.Context, f Filter) (int, error) {
	list, err := q.DeadLetters(ctx, f, 100000)
	if err != nil {
		return 0, err
	}
	for i, d := range list {
		obj := ""
		if d.BodySize > int64(q.opts.InlineBodyLimit) {
			obj = d.Request.CallID
		}
		if err := q.purgeSeq(ctx, d.Seq, obj); err != nil {
			return i, err
		}
	}
	return len(list), nil
}
