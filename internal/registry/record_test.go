package registry

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRecordGolden pins the JSON stored in the KV buckets: it is a
// persistence format, read back by older and newer nodes alike.
func TestRecordGolden(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f := sampleFunction("hello")
	f.Namespace, f.CreatedAt, f.UpdatedAt, f.Revision = DefaultNamespace, at, at.Add(time.Minute), 42
	f.Constraints = []string{"arch=amd64"}
	f.Requests = &Resources{CPU: "100m"}
	records := []struct {
		file string
		v    any
	}{
		{"function.json", f},
		{"secret.json", Secret{Name: "api-key", Namespace: DefaultNamespace, Value: []byte("s3cr3t"), CreatedAt: at, UpdatedAt: at}},
		{"namespace.json", Namespace{Name: "team1", Labels: map[string]string{"openfaas": "1"}, CreatedAt: at}},
	}
	for _, r := range records {
		got, err := json.MarshalIndent(r.v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", r.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from golden:\n%s", r.file, got)
		}
	}
}
