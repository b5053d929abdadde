package tlog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	sumnote "golang.org/x/mod/sumdb/note"
)

// Errors of the client-side checks, matched with errors.Is.
var (
	ErrBadCheckpoint = errors.New("tlog: checkpoint does not verify")
	ErrInconsistent  = errors.New("tlog: log is not consistent with an earlier checkpoint (history rewritten or truncated)")
)

// Checkpoint is a verified checkpoint.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   []byte
	Raw    []byte // the signed note
}

// Fetcher reads a tlog-tiles log (a directory or an HTTP base URL).
type Fetcher interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error)
}

// ParseCheckpoint verifies the note signature and parses the checkpoint.
func ParseCheckpoint(raw []byte, origin string, v sumnote.Verifier) (Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint(raw, origin, v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	return Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash, Raw: raw}, nil
}

// FetchCheckpoint reads and verifies the latest checkpoint.
func FetchCheckpoint(ctx context.Context, f Fetcher, origin string, v sumnote.Verifier) (Checkpoint, error) {
	raw, err := f.ReadCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tlog: fetch checkpoint: %w", err)
	}
	return ParseCheckpoint(raw, origin, v)
}

// VerifyConsistency checks that newer extends older, with a proof built
// from newer's tiles. A smaller newer is reported as truncation.
func VerifyConsistency(ctx context.Context, f Fetcher, older, newer Checkpoint) error {
	switch {
	case newer.Size < older.Size:
		return fmt.Errorf("%w: size went from %d down to %d", ErrInconsistent, older.Size, newer.Size)
	case older.Size == 0:
		return nil
	case newer.Size == older.Size:
		if string(newer.Hash) != string(older.Hash) {
			return fmt.Errorf("%w: two different roots for size %d", ErrInconsistent, newer.Size)
		}
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, newer.Size, f.ReadTile)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	cp, err := pb.ConsistencyProof(ctx, older.Size, newer.Size)
	if err != nil {
		return fmt.Errorf("%w: build proof %d→%d: %w", ErrInconsistent, older.Size, newer.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, older.Size, newer.Size, cp, older.Hash, newer.Hash); err != nil {
		return fmt.Errorf("%w: %d→%d: %w", ErrInconsistent, older.Size, newer.Size, err)
	}
	return nil
}

// VerifyInclusion checks that leaf data sits at index in the tree of cp,
// with a proof built from the log's tiles.
func VerifyInclusion(ctx context.Context, f Fetcher, cp Checkpoint, index uint64, data []byte) error {
	pb, err := client.NewProofBuilder(ctx, cp.Size, f.ReadTile)
	if err != nil {
		return fmt.Errorf("tlog: proof builder: %w", err)
	}
	ip, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return fmt.Errorf("tlog: inclusion proof for %d: %w", index, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, rfc6962.DefaultHasher.HashLeaf(data), ip, cp.Hash); err != nil {
		return fmt.Errorf("%w: entry %d is not in the tree of size %d: %w", ErrInconsistent, index, cp.Size, err)
	}
	return nil
}

// Audit reads every entry of the tree of cp, recomputes its root hash and
// compares it with cp's; each entry is passed to visit (which may be nil).
func Audit(ctx context.Context, f Fetcher, cp Checkpoint, visit func(index uint64, data []byte) error) error {
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	var idx uint64
	for t := uint64(0); idx < cp.Size; t++ {
		b, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, t, cp.Size)
		if err != nil {
			return fmt.Errorf("%w: entry bundle %d: %w", ErrInconsistent, t, err)
		}
		for _, e := range b.Entries {
			if idx >= cp.Size {
				break
			}
			if err := r.Append(rfc6962.DefaultHasher.HashLeaf(e), nil); err != nil {
				return fmt.Errorf("tlog: audit: %w", err)
			}
			if visit != nil {
				if err := visit(idx, e); err != nil {
					return err
				}
			}
			idx++
		}
		if len(b.Entries) == 0 {
			return fmt.Errorf("%w: entry bundle %d is empty", ErrInconsistent, t)
		}
	}
	if cp.Size == 0 {
		return nil
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return fmt.Errorf("tlog: audit: %w", err)
	}
	if string(root) != string(cp.Hash) {
		return fmt.Errorf("%w: the %d entries hash to %x, the checkpoint says %x", ErrInconsistent, cp.Size, root, cp.Hash)
	}
	return nil
}

// FileFetcherFor reads a log stored in dir.
func FileFetcherFor(dir string) Fetcher { return client.FileFetcher{Root: dir} }

// HTTPFetcherFor reads a log served at base (ending in "/").
func HTTPFetcherFor(base *url.URL, hc *http.Client) (Fetcher, error) {
	f, err := client.NewHTTPFetcher(base, hc)
	if err != nil {
		return nil, fmt.Errorf("tlog: fetcher: %w", err)
	}
	return f, nil
}
