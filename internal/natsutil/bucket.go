package natsutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// KVStreamName is the name of the stream that backs KV bucket b.
func KVStreamName(bucket string) string { return "KV_" + bucket }

// ObjectStreamName is the name of the stream that backs object store bucket b.
func ObjectStreamName(bucket string) string { return "OBJ_" + bucket }

// KeyValue creates or updates a KV bucket with file storage and then turns
// AllowDirect off on its stream, so that every Get is answered by the stream
// leader and never by a lagging replica (reference/scale.md, trap #1).
// CreateOrUpdateKeyValue always re-enables AllowDirect, so this must run after
// every such call; the returned handle is re-opened so it no longer uses the
// direct-get API.
func KeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	cfg.Storage = jetstream.FileStorage
	// A bucket that already exists as wanted is opened, not updated: an
	// update turns AllowDirect back on for every node until it is turned
	// off again, and a handle another node opens in that window keeps using
	// direct gets that then find no responder (seen in the 3-node test).
	if kv, err := js.KeyValue(ctx, cfg.Bucket); err == nil && settled(ctx, js, KVStreamName(cfg.Bucket), cfg.Replicas) {
		return kv, nil
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
		return nil, fmt.Errorf("create kv bucket %s: %w", cfg.Bucket, err)
	}
	if err := disableDirect(ctx, js, KVStreamName(cfg.Bucket)); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open kv bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// ObjectStore creates or updates an object store bucket with file storage and
// AllowDirect off (same reason as KeyValue: object metadata is read with a
// last-message-for-subject get).
func ObjectStore(ctx context.Context, js jetstream.JetStream, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	cfg.Storage = jetstream.FileStorage
	if obs, err := js.ObjectStore(ctx, cfg.Bucket); err == nil && settled(ctx, js, ObjectStreamName(cfg.Bucket), cfg.Replicas) {
		return obs, nil
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("create object store %s: %w", cfg.Bucket, err)
	}
	if err := disableDirect(ctx, js, ObjectStreamName(cfg.Bucket)); err != nil {
		return nil, err
	}
	obs, err := js.ObjectStore(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", cfg.Bucket, err)
	}
	return obs, nil
}

// settled reports whether the stream behind a bucket already has direct
// gets off and the wanted replicas, so opening it is enough.
func settled(ctx context.Context, js jetstream.JetStream, stream string, replicas int) bool {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return false
	}
	c := st.CachedInfo().Config
	return !c.AllowDirect && c.Replicas == replicas
}

func disableDirect(ctx context.Context, js jetstream.JetStream, name string) error {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return nil
	}
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("disable direct get on stream %s: %w", name, err)
	}
	return nil
}

// Snapshot returns the current (non-deleted) entries of a KV bucket, read
// through a watcher so that it costs one consumer instead of one request per
// key. An empty bucket yields an empty slice.
func Snapshot(ctx context.Context, kv jetstream.KeyValue) ([]jetstream.KeyValueEntry, error) {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	var out []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("snapshot %s: %w", kv.Bucket(), errors.New("watcher closed"))
			}
			if e == nil {
				return out, nil
			}
			out = append(out, e)
		case <-ctx.Done():
			return nil, fmt.Errorf("snapshot %s: %w", kv.Bucket(), ctx.Err())
		}
	}
}
