package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil"
)

// Bucket names.
const (
	ObjectBucket = "sigil_artifacts"
	MetaBucket   = "sigil_artifact_meta"
	TagBucket    = "sigil_tags"
)

// MaxSize is the largest module Put accepts (64 MiB).
const MaxSize = 64 << 20

// maxCASAttempts bounds the optimistic-concurrency retries on metadata.
const maxCASAttempts = 16

// Artifact is the metadata of one stored module.
type Artifact struct {
	Digest  string    `json:"digest"`  // "sha256:<hex>"
	Size    int64     `json:"size"`    // bytes
	ABI     string    `json:"abi"`     // "openfaas" | "wagi" (opaque here; the api validates)
	Tags    []string  `json:"tags"`    // normalized refs pointing at it, sorted
	Created time.Time `json:"created"` // first push
}

// Options configure Open.
type Options struct {
	// Replicas of every bucket; 0 means 1.
	Replicas int
}

// Store is the JetStream-backed artifact store. It is safe for concurrent use.
type Store struct {
	obs  jetstream.ObjectStore
	meta jetstream.KeyValue
	tags jetstream.KeyValue
}

// Open creates (or updates) the three buckets and returns a Store.
func Open(ctx context.Context, js jetstream.JetStream, opt Options) (*Store, error) {
	obs, err := natsutil.ObjectStore(ctx, js, jetstream.ObjectStoreConfig{
		Bucket:      ObjectBucket,
		Description: "sigil wasm artifacts, named by sha256 digest",
		Replicas:    opt.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	meta, err := natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      MetaBucket,
		Description: "sigil artifact metadata, key = digest hex",
		History:     1,
		Replicas:    opt.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	tags, err := natsutil.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      TagBucket,
		Description: "sigil tags, key = base64url(normalized ref), value = digest",
		History:     1,
		Replicas:    opt.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	return &Store{obs: obs, meta: meta, tags: tags}, nil
}

// DigestOf returns the "sha256:<hex>" digest of b.
func DigestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return digestPrefix + hex.EncodeToString(sum[:])
}

func metaKey(digest string) string { return strings.TrimPrefix(digest, digestPrefix) }

func tagKey(ref string) string { return base64.RawURLEncoding.EncodeToString([]byte(ref)) }

// Put stores wasm under its digest and points every tag at it. Storing the
// same bytes again uploads nothing and keeps the first Created time; the ABI
// is set to the latest push. Moving a tag away from another artifact removes
// it from that artifact's Tags (tags are derived from the tag bucket).
// Tags are normalized first; any invalid tag fails the whole call before
// anything is written.
func (s *Store) Put(ctx context.Context, wasm []byte, abi string, tags []string) (Artifact, error) {
	if len(wasm) == 0 {
		return Artifact{}, fmt.Errorf("%w: empty module", ErrInvalidArtifact)
	}
	if len(wasm) > MaxSize {
		return Artifact{}, fmt.Errorf("%w: module is %d bytes, the limit is %d", ErrInvalidArtifact, len(wasm), MaxSize)
	}
	norm := make([]string, 0, len(tags))
	for _, t := range tags {
		n, err := NormalizeRef(t)
		if err != nil {
			return Artifact{}, fmt.Errorf("tag %q: %w", t, err)
		}
		if _, pinned := splitDigest(n); pinned {
			return Artifact{}, fmt.Errorf("tag %q: %w: a tag cannot carry a digest", t, ErrInvalidRef)
		}
		norm = append(norm, n)
	}
	digest := DigestOf(wasm)

	if err := s.putObject(ctx, digest, wasm); err != nil {
		return Artifact{}, err
	}
	a, err := s.putMeta(ctx, digest, int64(len(wasm)), abi)
	if err != nil {
		return Artifact{}, err
	}
	for _, t := range norm {
		if _, err := s.tags.Put(ctx, tagKey(t), []byte(digest)); err != nil {
			return Artifact{}, fmt.Errorf("tag %s -> %s: %w", t, digest, err)
		}
	}
	if a.Tags, err = s.tagsOf(ctx, digest); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// putObject uploads the blob unless an object of that name and size exists.
func (s *Store) putObject(ctx context.Context, digest string, wasm []byte) error {
	info, err := s.obs.GetInfo(ctx, digest)
	switch {
	case err == nil && !info.Deleted && info.Size == uint64(len(wasm)):
		return nil
	case err != nil && !errors.Is(err, jetstream.ErrObjectNotFound):
		return fmt.Errorf("stat object %s: %w", digest, err)
	}
	if _, err := s.obs.PutBytes(ctx, digest, wasm); err != nil {
		return fmt.Errorf("store object %s: %w", digest, err)
	}
	return nil
}

// putMeta creates the metadata record or updates its ABI, keeping Created.
func (s *Store) putMeta(ctx context.Context, digest string, size int64, abi string) (Artifact, error) {
	key := metaKey(digest)
	for range maxCASAttempts {
		e, err := s.meta.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			a := Artifact{Digest: digest, Size: size, ABI: abi, Created: time.Now().UTC()}
			if _, err := s.meta.Create(ctx, key, encodeMeta(a)); err != nil {
				if errors.Is(err, jetstream.ErrKeyExists) {
					continue
				}
				return Artifact{}, fmt.Errorf("create metadata %s: %w", digest, err)
			}
			return a, nil
		}
		if err != nil {
			return Artifact{}, fmt.Errorf("read metadata %s: %w", digest, err)
		}
		a, err := decodeMeta(e.Value())
		if err != nil {
			return Artifact{}, fmt.Errorf("metadata %s: %w", digest, err)
		}
		if a.ABI == abi && a.Size == size {
			return a, nil
		}
		a.ABI, a.Size = abi, size
		if _, err := s.meta.Update(ctx, key, encodeMeta(a), e.Revision()); err != nil {
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			return Artifact{}, fmt.Errorf("update metadata %s: %w", digest, err)
		}
		return a, nil
	}
	return Artifact{}, fmt.Errorf("update metadata %s: too many concurrent writers", digest)
}

// metaRecord is the stored form: Tags are never stored.
type metaRecord struct {
	Digest  string    `json:"digest"`
	Size    int64     `json:"size"`
	ABI     string    `json:"abi"`
	Created time.Time `json:"created"`
}

func encodeMeta(a Artifact) []byte {
	b, _ := json.Marshal(metaRecord{Digest: a.Digest, Size: a.Size, ABI: a.ABI, Created: a.Created})
	return b
}

func decodeMeta(b []byte) (Artifact, error) {
	var m metaRecord
	if err := json.Unmarshal(b, &m); err != nil {
		return Artifact{}, fmt.Errorf("decode metadata: %w", err)
	}
	return Artifact{Digest: m.Digest, Size: m.Size, ABI: m.ABI, Created: m.Created, Tags: []string{}}, nil
}

// Get returns the bytes of the artifact, re-hashed and checked against digest.
func (s *Store) Get(ctx context.Context, digest string) ([]byte, error) {
	if _, ok := ParseDigest(digest); !ok {
		return nil, fmt.Errorf("get %q: %w", digest, ErrInvalidRef)
	}
	b, err := s.obs.GetBytes(ctx, digest)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, fmt.Errorf("get %s: %w", digest, ErrNotFound)
	case errors.Is(err, jetstream.ErrDigestMismatch):
		return nil, fmt.Errorf("get %s: %w: %v", digest, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("get %s: %w", digest, err)
	}
	if got := DigestOf(b); got != digest {
		return nil, fmt.Errorf("get %s: %w: bytes hash to %s", digest, ErrCorrupt, got)
	}
	return b, nil
}

// Stat returns the metadata of the artifact, with its current tags.
func (s *Store) Stat(ctx context.Context, digest string) (Artifact, error) {
	if _, ok := ParseDigest(digest); !ok {
		return Artifact{}, fmt.Errorf("stat %q: %w", digest, ErrInvalidRef)
	}
	e, err := s.meta.Get(ctx, metaKey(digest))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Artifact{}, fmt.Errorf("stat %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("stat %s: %w", digest, err)
	}
	a, err := decodeMeta(e.Value())
	if err != nil {
		return Artifact{}, fmt.Errorf("stat %s: %w", digest, err)
	}
	if a.Tags, err = s.tagsOf(ctx, digest); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// Resolve turns an image string into an artifact: a bare digest, a digested
// reference ("name@sha256:<hex>", where the digest wins and the name is not
// checked) or a tag reference ("hello", "hello:1", "docker.io/library/hello").
// Unknown digests and tags are ErrNotFound; unparsable strings ErrInvalidRef.
func (s *Store) Resolve(ctx context.Context, image string) (Artifact, error) {
	ref, err := NormalizeRef(image)
	if err != nil {
		return Artifact{}, fmt.Errorf("resolve: %w", err)
	}
	if d, ok := splitDigest(ref); ok {
		return s.Stat(ctx, d)
	}
	e, err := s.tags.Get(ctx, tagKey(ref))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Artifact{}, fmt.Errorf("resolve %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return s.Stat(ctx, string(e.Value()))
}

// List returns every artifact, newest first (ties by digest).
func (s *Store) List(ctx context.Context) ([]Artifact, error) {
	metas, err := natsutil.Snapshot(ctx, s.meta)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	tags, err := s.allTags(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Artifact, 0, len(metas))
	for _, e := range metas {
		a, err := decodeMeta(e.Value())
		if err != nil {
			return nil, fmt.Errorf("list artifacts: key %s: %w", e.Key(), err)
		}
		if t := tags[a.Digest]; t != nil {
			a.Tags = t
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Digest < out[j].Digest
	})
	return out, nil
}

// allTags maps each digest to its sorted tags.
func (s *Store) allTags(ctx context.Context) (map[string][]string, error) {
	entries, err := natsutil.Snapshot(ctx, s.tags)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	m := make(map[string][]string)
	for _, e := range entries {
		ref, err := base64.RawURLEncoding.DecodeString(e.Key())
		if err != nil {
			return nil, fmt.Errorf("list tags: bad key %q: %w", e.Key(), err)
		}
		d := string(e.Value())
		m[d] = append(m[d], string(ref))
	}
	for _, v := range m {
		sort.Strings(v)
	}
	return m, nil
}

func (s *Store) tagsOf(ctx context.Context, digest string) ([]string, error) {
	m, err := s.allTags(ctx)
	if err != nil {
		return nil, err
	}
	if t := m[digest]; t != nil {
		return t, nil
	}
	return []string{}, nil
}
