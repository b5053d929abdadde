package tlog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
)

// Reads of a cluster's log: the tiles live on the writer's disk only, so a
// reader on another node asks the writer over NATS (request/reply) instead
// of keeping a second copy that could lag or diverge.

// serveRead answers a read on the writer: a tlog-tiles path, or a fetch op.
func (c *cluster) serveRead(m *nats.Msg) {
	reply := nats.NewMsg(m.Reply)
	w := c.current()
	var (
		b   []byte
		err error
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch {
	case w == nil:
		err = ErrNoWriter
	case m.Header.Get(hdrOp) != "":
		b, err = fetchOp(ctx, client.FileFetcher{Root: w.dir}, m.Header.Get(hdrOp), m.Header.Get(hdrArg))
	default:
		rel, ok := tilePath(string(m.Data))
		if !ok {
			err = os.ErrNotExist
			break
		}
		b, err = os.ReadFile(filepath.Join(w.dir, filepath.FromSlash(rel)))
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		reply.Header.Set(hdrStatus, "404")
	case err != nil:
		reply.Header.Set(hdrError, err.Error())
	default:
		reply.Data = b
	}
	_ = m.RespondMsg(reply)
}

func fetchOp(ctx context.Context, f client.FileFetcher, op, arg string) ([]byte, error) {
	var n []uint64
	for _, s := range strings.Split(arg, ",") {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("tlog: bad fetch argument %q", arg)
		}
		n = append(n, v)
	}
	switch {
	case op == "checkpoint":
		return f.ReadCheckpoint(ctx)
	case op == "tile" && len(n) == 3 && n[2] < 256:
		return f.ReadTile(ctx, n[0], n[1], uint8(n[2]))
	case op == "entries" && len(n) == 2 && n[1] < 256:
		return f.ReadEntryBundle(ctx, n[0], uint8(n[1]))
	}
	return nil, fmt.Errorf("tlog: bad fetch op %q %q", op, arg)
}

// request sends one read to the writer.
func (c *cluster) request(ctx context.Context, m *nats.Msg) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m.Subject = ReadSubject
	res, err := c.o.NC.RequestMsgWithContext(rctx, m)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoWriter
	}
	if err != nil {
		return nil, fmt.Errorf("tlog: read from the writer: %w", err)
	}
	if res.Header.Get(hdrStatus) == "404" {
		return nil, os.ErrNotExist
	}
	if e := res.Header.Get(hdrError); e != "" {
		return nil, &remoteError{e}
	}
	return res.Data, nil
}

// rpcFetcher is a Fetcher reading through the writer (or locally on it).
type rpcFetcher struct{ c *cluster }

func (c *cluster) fetcher() Fetcher { return rpcFetcher{c} }

func (f rpcFetcher) op(ctx context.Context, op, arg string) ([]byte, error) {
	if w := f.c.current(); w != nil {
		return fetchOp(ctx, client.FileFetcher{Root: w.dir}, op, arg)
	}
	m := nats.NewMsg(ReadSubject)
	m.Header.Set(hdrOp, op)
	m.Header.Set(hdrArg, arg)
	return f.c.request(ctx, m)
}

func (f rpcFetcher) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return f.op(ctx, "checkpoint", "0")
}

func (f rpcFetcher) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return f.op(ctx, "tile", fmt.Sprintf("%d,%d,%d", l, i, p))
}

func (f rpcFetcher) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return f.op(ctx, "entries", fmt.Sprintf("%d,%d", i, p))
}

// tilePath cleans a request path and accepts only the public files.
func tilePath(rel string) (string, bool) {
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	return rel, rel == "checkpoint" || strings.HasPrefix(rel, "tile/")
}

// handler serves the tlog-tiles view on any node: the writer from its disk,
// the others through it (503 while no writer is elected).
func (c *cluster) handler(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wr := c.current(); wr != nil {
			wr.Handler(prefix).ServeHTTP(w, r)
			return
		}
		rel, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		rel, ok = tilePath(rel)
		if !ok {
			http.NotFound(w, r)
			return
		}
		m := nats.NewMsg(ReadSubject)
		m.Data = []byte(rel)
		b, err := c.request(r.Context(), m)
		switch {
		case errors.Is(err, os.ErrNotExist):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if rel == "checkpoint" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
			if !strings.Contains(rel, ".p/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			}
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

// verifyReceipt checks a receipt from the writer: a checkpoint signed by
// the log key, and an inclusion proof of data under it.
func (l *Log) verifyReceipt(rc Receipt, data []byte) error {
	cp, err := ParseCheckpoint(rc.Checkpoint, l.origin, l.verifier)
	if err != nil {
		return err
	}
	if cp.Size != rc.TreeSize || string(cp.Hash) != string(rc.RootHash) {
		return errors.New("tlog: receipt does not match its checkpoint")
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, rc.Index, cp.Size, rfc6962.DefaultHasher.HashLeaf(data), rc.Proof, cp.Hash); err != nil {
		return fmt.Errorf("tlog: receipt's inclusion proof does not verify: %w", err)
	}
	return nil
}
