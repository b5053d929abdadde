// Package fnlog owns function logs: every line a guest writes to stderr (and
// every line the gateway writes about an invocation) is appended to a
// JetStream stream, one subject per function, and read back for
// GET /system/logs with tail, since and follow.
package fnlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Message is one log line.
type Message struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Instance  string    `json:"instance"`
	Timestamp time.Time `json:"timestamp"`
	Text      string    `json:"text"`
}

// Options sets the stream's retention.
type Options struct {
	Replicas       int
	MaxPerFunction int64         // lines kept per function (default 10,000)
	MaxAge         time.Duration // default 7 days
	MaxBytes       int64         // whole stream (default 256 MiB)
	Logger         *slog.Logger
}

const (
	streamName    = "SIGIL_LOGS"
	subjectPrefix = "sigil.logs."
)

// Store appends and reads function logs.
type Store struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
}

// Open creates or updates the logs stream.
func Open(ctx context.Context, js jetstream.JetStream, opt Options) (*Store, error) {
	if opt.Replicas <= 0 {
		opt.Replicas = 1
	}
	if opt.MaxPerFunction <= 0 {
		opt.MaxPerFunction = 10_000
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = 7 * 24 * time.Hour
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 256 << 20
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              streamName,
		Description:       "function logs (stderr of guests and gateway notes), one subject per function",
		Subjects:          []string{subjectPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		MaxMsgsPerSubject: opt.MaxPerFunction,
		MaxAge:            opt.MaxAge,
		MaxBytes:          opt.MaxBytes,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          opt.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("fnlog: create stream: %w", err)
	}
	return &Store{js: js, stream: st, log: opt.Logger}, nil
}

func subject(namespace, name string) string { return subjectPrefix + namespace + "." + name }

// Append publishes one line without waiting for the acknowledgement: logging
// must never slow an invocation down. Failures are reported on the node log.
func (s *Store) Append(namespace, name, instance, text string) {
	b, err := json.Marshal(Message{Name: name, Namespace: namespace, Instance: instance, Timestamp: time.Now().UTC(), Text: text})
	if err != nil {
		return
	}
	if _, err := s.js.PublishAsync(subject(namespace, name), b); err != nil {
		s.log.Warn("function log dropped", "function", name, "namespace", namespace, "err", err)
	}
}

// Flush waits until every Append so far is acknowledged (or ctx ends).
func (s *Store) Flush(ctx context.Context) error {
	select {
	case <-s.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Query selects the lines to read.
type Query struct {
	Namespace, Name string
	Tail            int       // > 0: only the last Tail lines already stored
	Since           time.Time // zero: from the start
	Follow          bool      // keep streaming new lines until ctx ends
}

// Read calls emit for each selected line in order. Without Follow it returns
// once the stored lines are delivered.
func (s *Store) Read(ctx context.Context, q Query, emit func(Message) error) error {
	subj := subject(q.Namespace, q.Name)
	info, err := s.stream.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return fmt.Errorf("fnlog: stream info: %w", err)
	}
	stored := info.State.Subjects[subj]
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !q.Since.IsZero() {
		t := q.Since
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &t
	}
	if stored == 0 && !q.Follow {
		return nil
	}
	// The last stored sequence for this subject bounds a non-follow read.
	var last uint64
	if stored > 0 {
		m, err := s.stream.GetLastMsgForSubject(ctx, subj)
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("fnlog: last message: %w", err)
		}
		if m != nil && (q.Since.IsZero() || !m.Time.Before(q.Since)) {
			last = m.Sequence
		}
	}
	if last == 0 && !q.Follow {
		return nil
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("fnlog: consumer: %w", err)
	}
	msgs := make(chan jetstream.Msg, 256)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return fmt.Errorf("fnlog: consume: %w", err)
	}
	defer cc.Stop()

	var ring []Message // tail buffer, used until the stored lines are drained
	tailing := q.Tail > 0
	drained := last == 0
	flushRing := func() error {
		for _, m := range ring {
			if err := emit(m); err != nil {
				return err
			}
		}
		ring = nil
		return nil
	}
	for {
		var msg jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case msg = <-msgs:
		}
		var m Message
		if json.Unmarshal(msg.Data(), &m) != nil {
			continue
		}
		var seq uint64
		if md, err := msg.Metadata(); err == nil {
			seq = md.Sequence.Stream
		}
		if !drained && tailing {
			ring = append(ring, m)
			if len(ring) > q.Tail {
				ring = ring[1:]
			}
		} else if err := emit(m); err != nil {
			return err
		}
		if !drained && seq >= last {
			drained = true
			if err := flushRing(); err != nil {
				return err
			}
			if !q.Follow {
				return nil
			}
		}
	}
}
