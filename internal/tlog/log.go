package tlog

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	sumnote "golang.org/x/mod/sumdb/note"
)

// Defaults of Options.
const (
	DefaultBatchMaxAge        = 50 * time.Millisecond
	DefaultCheckpointInterval = 100 * time.Millisecond // Tessera's minimum
	DefaultBatchMaxSize       = 256
)

// Options configure Open.
type Options struct {
	Dir    string             // the POSIX storage directory (DATA/tlog)
	Key    ed25519.PrivateKey // the node's log key
	Logger *slog.Logger

	BatchMaxSize       uint          // entries per integration batch (default 256)
	BatchMaxAge        time.Duration // how long an entry may wait for its batch (default 50ms)
	CheckpointInterval time.Duration // how often a checkpoint is published (default 100ms)

	// noAntispam: a cluster's writer replays a replicated entry stream and
	// must give every entry its own index (it deduplicates itself).
	noAntispam bool
}

// Log is an open, appendable transparency log. Safe for concurrent use.
type Log struct {
	dir      string
	origin   string
	pub      ed25519.PublicKey
	key      ed25519.PrivateKey
	logID    []byte
	verifier sumnote.Verifier
	log      *slog.Logger

	add      tessera.AddFn
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc

	cl *cluster // non-nil: a cluster member (leader.go)
}

// Receipt proves one appended entry: its index, the checkpoint it was first
// published under and the inclusion proof against that checkpoint.
type Receipt struct {
	Index      uint64
	TreeSize   uint64
	RootHash   []byte
	Checkpoint []byte // the signed note
	Proof      [][]byte
	Dup        bool // the same bytes were already in the log (Index is theirs)
}

// OriginFor names the log of key pub: "sigil-<16 hex of sha256(pub)>.log".
// It is a hostname, because sigstore-go checks a Rekor v2 checkpoint's
// origin against the hostname of the log's baseUrl in trusted_root.json.
func OriginFor(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return "sigil-" + hex.EncodeToString(h[:8]) + ".log"
}

// NoteVerifier returns the checkpoint verifier for a log key.
func NoteVerifier(origin string, pub ed25519.PublicKey) (sumnote.Verifier, error) {
	sv, err := signature.LoadED25519Verifier(pub)
	if err != nil {
		return nil, fmt.Errorf("tlog: verifier: %w", err)
	}
	v, err := note.NewNoteVerifier(origin, sv)
	if err != nil {
		return nil, fmt.Errorf("tlog: note verifier: %w", err)
	}
	return v, nil
}

// Open opens (creating when needed) the log in opt.Dir.
func Open(ctx context.Context, opt Options) (*Log, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.BatchMaxSize == 0 {
		opt.BatchMaxSize = DefaultBatchMaxSize
	}
	if opt.BatchMaxAge <= 0 {
		opt.BatchMaxAge = DefaultBatchMaxAge
	}
	if opt.CheckpointInterval <= 0 {
		opt.CheckpointInterval = DefaultCheckpointInterval
	}
	if len(opt.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("tlog: an Ed25519 log key is required")
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("tlog: %w", err)
	}
	pub := opt.Key.Public().(ed25519.PublicKey)
	l := &Log{dir: opt.Dir, origin: OriginFor(pub), pub: pub, key: opt.Key, log: opt.Logger}
	ss, err := signature.LoadED25519Signer(opt.Key)
	if err != nil {
		return nil, fmt.Errorf("tlog: signer: %w", err)
	}
	ns, err := note.NewNoteSigner(ctx, l.origin, ss)
	if err != nil {
		return nil, fmt.Errorf("tlog: note signer: %w", err)
	}
	if _, l.logID, err = note.KeyHash(l.origin, pub); err != nil {
		return nil, fmt.Errorf("tlog: log id: %w", err)
	}
	if l.verifier, err = NoteVerifier(l.origin, pub); err != nil {
		return nil, err
	}
	drv, err := posix.New(ctx, posix.Config{Path: opt.Dir})
	if err != nil {
		return nil, fmt.Errorf("tlog: posix storage: %w", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(ns).
		WithBatching(opt.BatchMaxSize, opt.BatchMaxAge).
		WithCheckpointInterval(opt.CheckpointInterval)
	if !opt.noAntispam {
		opts = opts.WithAntispam(tessera.DefaultAntispamInMemorySize, nil)
	}
	// The appender's goroutines live as long as the log, not the caller's ctx.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	app, shutdown, reader, err := tessera.NewAppender(lctx, drv, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("tlog: appender: %w", err)
	}
	l.add, l.shutdown, l.reader = app.Add, shutdown, reader
	l.awaiter = tessera.NewPublicationAwaiter(lctx, reader.ReadCheckpoint, 10*time.Millisecond)
	return l, nil
}

// Close flushes pending entries and stops the appender.
func (l *Log) Close(ctx context.Context) error {
	if l.cl != nil {
		return l.cl.close(ctx)
	}
	err := l.shutdown(ctx)
	l.cancel()
	if err != nil {
		return fmt.Errorf("tlog: shutdown: %w", err)
	}
	return nil
}

// Origin is the checkpoint origin line.
func (l *Log) Origin() string { return l.origin }

// PublicKey is the log's Ed25519 public key.
func (l *Log) PublicKey() ed25519.PublicKey { return l.pub }

// LogID is the Rekor v2 log ID (note key hash) bundles carry.
func (l *Log) LogID() []byte { return l.logID }

// Verifier verifies the log's checkpoints.
func (l *Log) Verifier() sumnote.Verifier { return l.verifier }

// Dir is the storage directory.
func (l *Log) Dir() string { return l.dir }

// Append adds data as one entry, waits until a checkpoint covers it and
// returns the verified inclusion proof against that checkpoint.
func (l *Log) Append(ctx context.Context, data []byte) (Receipt, error) {
	if l.cl != nil {
		return l.cl.append(ctx, data)
	}
	e := tessera.NewEntry(data)
	return l.receipt(ctx, e, l.add(ctx, e))
}

// receipt waits until a checkpoint covers the entry of fut and proves it.
func (l *Log) receipt(ctx context.Context, e *tessera.Entry, fut tessera.IndexFuture) (Receipt, error) {
	idx, cpRaw, err := l.awaiter.Await(ctx, fut)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: append: %w", err)
	}
	cp, err := ParseCheckpoint(cpRaw, l.origin, l.verifier)
	if err != nil {
		return Receipt{}, err
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, l.reader.ReadTile)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: proof builder: %w", err)
	}
	ip, err := pb.InclusionProof(ctx, idx.Index)
	if err != nil {
		return Receipt{}, fmt.Errorf("tlog: inclusion proof: %w", err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, idx.Index, cp.Size, e.LeafHash(), ip, cp.Hash); err != nil {
		return Receipt{}, fmt.Errorf("tlog: inclusion proof does not verify: %w", err)
	}
	return Receipt{Index: idx.Index, TreeSize: cp.Size, RootHash: cp.Hash, Checkpoint: cpRaw, Proof: ip, Dup: idx.IsDup}, nil
}

// Checkpoint returns the latest published checkpoint.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	var f interface {
		ReadCheckpoint(context.Context) ([]byte, error)
	} = l.reader
	if l.cl != nil {
		f = l.cl.fetcher()
	}
	raw, err := f.ReadCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: read checkpoint: %w", err)
	}
	return ParseCheckpoint(raw, l.origin, l.verifier)
}

// Fetcher reads this log's files directly (for server-side proofs).
func (l *Log) Fetcher() Fetcher {
	if l.cl != nil {
		return l.cl.fetcher()
	}
	return client.FileFetcher{Root: l.dir}
}
