package tlog

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"

	"github.com/sigilhq/sigil/internal/lease"
)

// The replicated log of a cluster (docs/cluster.md): the entry stream is
// the log's durable, replicated order; one elected writer turns it into
// Tessera tiles on its own disk and answers every append and read.
const (
	EntryStream   = "TLOG"              // entry i is message i+1
	entrySubject  = "sigil.tlog.entry"  // the stream's only subject
	AppendSubject = "sigil.tlog.append" // request: entry bytes; reply: Receipt JSON
	ReadSubject   = "sigil.tlog.read"   // request: a tile path or a fetch op; reply: bytes
	LeaseKey      = "tlog-writer"

	hdrError  = "Sigil-Error"
	hdrStatus = "Sigil-Status" // "404" when a read path does not exist
	hdrOp     = "Sigil-Op"     // fetch ops: "tile" or "entries" with Sigil-Arg "l,i,p" / "i,p"
	hdrArg    = "Sigil-Arg"
)

// ErrNoWriter reports that no node took the writer lease in time.
var ErrNoWriter = errors.New("tlog: no log writer is available")

// ClusterOptions configure OpenCluster.
type ClusterOptions struct {
	Options             // Dir is this node's tile cache (rebuilt on takeover); Key is the cluster's shared log key
	NC       *nats.Conn // the node's connection
	JS       jetstream.JetStream
	Leases   jetstream.KeyValue // from lease.Bucket
	LeaseTTL time.Duration      // the Leases bucket's TTL
	Node     string             // this node's unique name
	Replicas int                // of the entry stream

	// AppendTimeout bounds how long an append waits for a writer
	// (failover included). Default 30s.
	AppendTimeout time.Duration
}

type cluster struct {
	l      *Log
	o      ClusterOptions
	log    *slog.Logger
	lease  *lease.Lease
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	stopLead context.CancelFunc  // ends the current leadership
	writer   *Log                // the local Tessera log while leading
	next     uint64              // index of the next entry
	seen     map[[32]byte]uint64 // leaf hash → index (the writer's dedup)
}

// OpenCluster opens the log as one member of a cluster. Every member can
// append and read; one of them, elected by a KV lease, is the writer.
func OpenCluster(ctx context.Context, o ClusterOptions) (*Log, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.AppendTimeout <= 0 {
		o.AppendTimeout = 30 * time.Second
	}
	if len(o.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("tlog: an Ed25519 log key is required")
	}
	pub := o.Key.Public().(ed25519.PublicKey)
	l := &Log{dir: o.Dir, origin: OriginFor(pub), pub: pub, key: o.Key, log: o.Logger}
	var err error
	if _, l.logID, err = note.KeyHash(l.origin, pub); err != nil {
		return nil, fmt.Errorf("tlog: log id: %w", err)
	}
	if l.verifier, err = NoteVerifier(l.origin, pub); err != nil {
		return nil, err
	}
	if _, err := o.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        EntryStream,
		Description: "transparency log entries in log order (entry i = message i+1)",
		Subjects:    []string{entrySubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    max(o.Replicas, 1),
		Duplicates:  2 * time.Minute,
	}); err != nil {
		return nil, fmt.Errorf("tlog: entry stream: %w", err)
	}
	c := &cluster{l: l, o: o, log: o.Logger.With("component", "tlog"), done: make(chan struct{})}
	c.lease = lease.New(lease.Options{KV: o.Leases, Key: LeaseKey, Holder: o.Node, TTL: o.LeaseTTL, Logger: o.Logger})
	l.cl = c
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	go func() {
		defer close(c.done)
		c.lease.Run(rctx, c.lead)
	}()
	return l, nil
}

// Writer reports whether this node is the log's writer now.
func (l *Log) Writer() bool { return l.cl == nil || l.cl.current() != nil }

func (c *cluster) current() *Log {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writer
}

// close releases the lease (a successor takes over at once) and stops.
func (c *cluster) close(context.Context) error {
	c.cancel()
	<-c.done
	return nil
}

// lead runs while this node holds the writer lease: rebuild the local tiles
// from the entry stream, then serve appends and reads until ctx ends.
func (c *cluster) lead(ctx context.Context) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	began := time.Now()
	w, n, seen, err := c.rebuild(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("tlog: cannot become the writer", "err", err)
		}
		return // the lease is released; another node (or this one) tries again
	}
	c.mu.Lock()
	c.writer, c.next, c.seen, c.stopLead = w, n, seen, stop
	c.mu.Unlock()
	subA, errA := c.o.NC.Subscribe(AppendSubject, c.serveAppend)
	subR, errR := c.o.NC.Subscribe(ReadSubject, c.serveRead)
	if err := errors.Join(errA, errR); err != nil {
		c.log.Error("tlog: subscribe", "err", err)
	} else {
		c.log.Info("tlog: this node is the log writer", "node", c.o.Node, "entries", n,
			"rebuilt_in", time.Since(began).Round(time.Millisecond).String())
		<-ctx.Done()
	}
	for _, s := range []*nats.Subscription{subA, subR} {
		if s != nil {
			_ = s.Unsubscribe()
		}
	}
	c.mu.Lock()
	c.writer = nil
	c.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Close(sctx); err != nil {
		c.log.Warn("tlog: close writer", "err", err)
	}
	c.log.Info("tlog: stopped being the log writer", "node", c.o.Node)
}

// rebuild replaces the local tiles with the entry stream's content: the
// stream is the log, the tiles are derived from it. A former writer's tiles
// may hold entries that never reached the stream (it died in between), so
// they are never trusted.
func (c *cluster) rebuild(ctx context.Context) (*Log, uint64, map[[32]byte]uint64, error) {
	if err := os.RemoveAll(c.o.Dir); err != nil {
		return nil, 0, nil, fmt.Errorf("tlog: clear %s: %w", c.o.Dir, err)
	}
	opt := c.o.Options
	opt.noAntispam = true
	w, err := Open(ctx, opt)
	if err != nil {
		return nil, 0, nil, err
	}
	fail := func(err error) (*Log, uint64, map[[32]byte]uint64, error) {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Close(sctx)
		return nil, 0, nil, err
	}
	st, err := c.o.JS.Stream(ctx, EntryStream)
	if err != nil {
		return fail(fmt.Errorf("tlog: entry stream: %w", err))
	}
	last := st.CachedInfo().State.LastSeq
	seen := map[[32]byte]uint64{}
	if last == 0 {
		return w, 0, seen, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fail(fmt.Errorf("tlog: replay: %w", err))
	}
	var (
		fut  tessera.IndexFuture
		ent  *tessera.Entry
		want uint64
	)
	for want < last {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fail(fmt.Errorf("tlog: replay: %w", err))
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return fail(fmt.Errorf("tlog: replay: %w", err))
			}
			if md.Sequence.Stream != want+1 {
				return fail(fmt.Errorf("tlog: replay: entry stream has a gap at %d (got %d)", want+1, md.Sequence.Stream))
			}
			ent = tessera.NewEntry(m.Data())
			seen[leafHash(m.Data())] = want
			fut = w.add(ctx, ent)
			want++
			if want == last {
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fail(fmt.Errorf("tlog: replay: %w", err))
		}
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
	idx, _, err := w.awaiter.Await(ctx, fut)
	if err != nil {
		return fail(fmt.Errorf("tlog: replay: %w", err))
	}
	if idx.Index != last-1 {
		return fail(fmt.Errorf("tlog: replay: last entry got index %d, want %d", idx.Index, last-1))
	}
	return w, last, seen, nil
}

func leafHash(data []byte) [32]byte {
	var h [32]byte
	copy(h[:], rfc6962.DefaultHasher.HashLeaf(data))
	return h
}

// write appends on the writer: the entry is first stored in the replicated
// stream (the commit point; ExpectLastSequence fences off any stale writer),
// then sequenced into Tessera in the same order.
func (c *cluster) write(ctx context.Context, data []byte) (Receipt, error) {
	c.mu.Lock()
	w := c.writer
	if w == nil {
		c.mu.Unlock()
		return Receipt{}, ErrNoWriter
	}
	e := tessera.NewEntry(data)
	if idx, ok := c.seen[leafHash(data)]; ok {
		c.mu.Unlock()
		return w.receipt(ctx, e, func() (tessera.Index, error) { return tessera.Index{Index: idx, IsDup: true}, nil })
	}
	idx := c.next
	if _, err := c.o.JS.Publish(ctx, entrySubject, data, jetstream.WithExpectStream(EntryStream),
		jetstream.WithExpectLastSequence(idx)); err != nil {
		c.mu.Unlock()
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			c.log.Error("tlog: the entry stream moved under this writer; stepping down", "err", err)
			c.stopLead()
		}
		return Receipt{}, fmt.Errorf("tlog: store entry: %w", err)
	}
	fut := w.add(ctx, e)
	c.seen[leafHash(data)] = idx
	c.next++
	c.mu.Unlock()
	rc, err := w.receipt(ctx, e, fut)
	if err == nil && rc.Index != idx {
		return Receipt{}, fmt.Errorf("tlog: entry stored as %d but sequenced as %d", idx, rc.Index)
	}
	return rc, err
}

// append writes locally when this node is the writer, else forwards the
// entry to the writer and retries (through a failover) until
// AppendTimeout. Retrying is safe: the writer answers a repeated entry with
// its existing index.
func (c *cluster) append(ctx context.Context, data []byte) (Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.AppendTimeout)
	defer cancel()
	var last error
	for {
		var rc Receipt
		var err error
		if c.current() != nil {
			rc, err = c.write(ctx, data)
		} else {
			rc, err = c.forward(ctx, data)
		}
		if err == nil {
			return rc, nil
		}
		last = err
		if !retryable(err) {
			return Receipt{}, err
		}
		select {
		case <-ctx.Done():
			return Receipt{}, fmt.Errorf("%w within %s: %w", ErrNoWriter, c.o.AppendTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type remoteError struct{ msg string }

func (e *remoteError) Error() string { return "tlog writer: " + e.msg }

func retryable(err error) bool {
	var re *remoteError
	return !errors.As(err, &re) || errors.Is(err, ErrNoWriter)
}

func (c *cluster) forward(ctx context.Context, data []byte) (Receipt, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := c.o.NC.RequestWithContext(rctx, AppendSubject, data)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: forward append: %w", err)
	}
	if e := msg.Header.Get(hdrError); e != "" {
		if e == ErrNoWriter.Error() {
			return Receipt{}, ErrNoWriter
		}
		return Receipt{}, &remoteError{e}
	}
	var rc Receipt
	if err := json.Unmarshal(msg.Data, &rc); err != nil {
		return Receipt{}, fmt.Errorf("tlog: forward append: decode receipt: %w", err)
	}
	// Trust nothing: the checkpoint must carry the log's signature and the
	// proof must place this entry under it.
	if err := c.l.verifyReceipt(rc, data); err != nil {
		return Receipt{}, &remoteError{err.Error()}
	}
	return rc, nil
}

func (c *cluster) serveAppend(m *nats.Msg) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.o.AppendTimeout)
		defer cancel()
		rc, err := c.write(ctx, m.Data)
		reply := nats.NewMsg(m.Reply)
		if err != nil {
			reply.Header.Set(hdrError, err.Error())
			if errors.Is(err, ErrNoWriter) {
				reply.Header.Set(hdrError, ErrNoWriter.Error())
			}
		} else if reply.Data, err = json.Marshal(rc); err != nil {
			reply.Header.Set(hdrError, err.Error())
		}
		_ = m.RespondMsg(reply)
	}()
}
