package trust

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocalKeyRecord(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SIGIL_KEY", "")
	key := filepath.Join(t.TempDir(), "dev.key")
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RecordLocalKey("127.0.0.1:18080", key); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		gateway, want string
	}{
		{"http://127.0.0.1:18080", key},
		{"http://localhost:18080", key}, // same node, other spelling
		{"http://127.0.0.1:18081", ""},  // another port: another node
		{"http://10.0.0.1:18080", ""},   // never for a remote gateway
		{"not a url", ""},
	}
	for _, tt := range tests {
		if got := LocalKeyFor(tt.gateway); got != tt.want {
			t.Errorf("LocalKeyFor(%q) = %q, want %q", tt.gateway, got, tt.want)
		}
	}
	// A flag and $SIGIL_KEY still win over the record.
	if got := FindSigningKeyFor("/explicit.key", "http://127.0.0.1:18080"); got != "/explicit.key" {
		t.Errorf("flag lost to the record: %q", got)
	}
	t.Setenv("SIGIL_KEY", "/env.key")
	if got := FindSigningKeyFor("", "http://127.0.0.1:18080"); got != "/env.key" {
		t.Errorf("$SIGIL_KEY lost to the record: %q", got)
	}
	// A record whose key file is gone is ignored.
	t.Setenv("SIGIL_KEY", "")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if got := LocalKeyFor("http://127.0.0.1:18080"); got != "" {
		t.Errorf("stale record used: %q", got)
	}
}
