package natsutil

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sigilhq/sigil/internal/natsutil/natstest"
)

func TestBucketsHaveDirectGetOff(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	for range 2 { // the second round re-applies over existing buckets
		kv, err := KeyValue(ctx, srv.JS, jetstream.KeyValueConfig{Bucket: "t_kv", History: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ObjectStore(ctx, srv.JS, jetstream.ObjectStoreConfig{Bucket: "t_obj"}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{KVStreamName("t_kv"), ObjectStreamName("t_obj")} {
			st, err := srv.JS.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			cfg := st.CachedInfo().Config
			if cfg.AllowDirect || cfg.Storage != jetstream.FileStorage || cfg.Replicas != 1 {
				t.Errorf("%s: AllowDirect=%v Storage=%v Replicas=%d", name, cfg.AllowDirect, cfg.Storage, cfg.Replicas)
			}
		}
		if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	kv, err := KeyValue(ctx, srv.JS, jetstream.KeyValueConfig{Bucket: "snap"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Snapshot(ctx, kv)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty snapshot = %v, %v", got, err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := kv.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	got, err = Snapshot(ctx, kv)
	if err != nil || len(got) != 2 || got[0].Key() != "a" || got[1].Key() != "c" {
		t.Fatalf("snapshot = %v, %v; want a, c", got, err)
	}
}
