package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateNames(t *testing.T) {
	tests := []struct {
		fn   func(string) error
		kind string
		in   string
		ok   bool
	}{
		{ValidateFunctionName, "fn", "hello", true},
		{ValidateFunctionName, "fn", "a", true},
		{ValidateFunctionName, "fn", "hello-world-2", true},
		{ValidateFunctionName, "fn", "9lives", true},
		{ValidateFunctionName, "fn", strings.Repeat("a", 63), true},
		{ValidateFunctionName, "fn", strings.Repeat("a", 64), false},
		{ValidateFunctionName, "fn", "", false},
		{ValidateFunctionName, "fn", "Hello", false},
		{ValidateFunctionName, "fn", "-hello", false},
		{ValidateFunctionName, "fn", "hello-", false},
		{ValidateFunctionName, "fn", "hello.world", false},
		{ValidateFunctionName, "fn", "hello_world", false},
		{ValidateFunctionName, "fn", "héllo", false},
		{ValidateFunctionName, "fn", "a*", false},
		{ValidateNamespaceName, "ns", "openfaas-fn", true},
		{ValidateNamespaceName, "ns", "team1", true},
		{ValidateNamespaceName, "ns", "team.1", false},
		{ValidateNamespaceName, "ns", "", false},
		{ValidateNamespaceName, "ns", ">", false},
		{ValidateSecretName, "secret", "api-key", true},
		{ValidateSecretName, "secret", "API_KEY.v2", true},
		{ValidateSecretName, "secret", "a", true},
		{ValidateSecretName, "secret", strings.Repeat("s", 253), true},
		{ValidateSecretName, "secret", strings.Repeat("s", 254), false},
		{ValidateSecretName, "secret", "", false},
		{ValidateSecretName, "secret", "a..b", false},
		{ValidateSecretName, "secret", ".hidden", false},
		{ValidateSecretName, "secret", "trailing.", false},
		{ValidateSecretName, "secret", "../etc/passwd", false},
		{ValidateSecretName, "secret", "a/b", false},
		{ValidateSecretName, "secret", "a b", false},
		{ValidateSecretName, "secret", "a*", false},
	}
	for i, tt := range tests {
		err := tt.fn(tt.in)
		if tt.ok && err != nil {
			t.Errorf("%d: %s %q: unexpected error %v", i, tt.kind, tt.in, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%d: %s %q: err = %v, want ErrInvalid", i, tt.kind, tt.in, err)
		}
	}
}

func TestCacheRevisionGuard(t *testing.T) {
	c := newCache[string, int]()
	steps := []struct {
		op      string
		val     int
		rev     uint64
		want    int
		present bool
	}{
		{"put", 1, 5, 1, true},
		{"put", 0, 4, 1, true},  // older put ignored
		{"put", 2, 5, 1, true},  // same revision ignored
		{"del", 0, 4, 1, true},  // older delete ignored
		{"del", 0, 6, 0, false}, // newer delete wins
		{"put", 3, 6, 0, false}, // put at the tombstone revision ignored
		{"put", 4, 8, 4, true},  // re-created
	}
	for i, s := range steps {
		if s.op == "put" {
			c.put("k", s.val, s.rev)
		} else {
			c.del("k", s.rev)
		}
		got, ok := c.get("k")
		if ok != s.present || (ok && got != s.want) {
			t.Fatalf("step %d (%s %d@%d): get = %d, %v; want %d, %v", i, s.op, s.val, s.rev, got, ok, s.want, s.present)
		}
	}
	if last, ok := c.last("k"); !ok || last != 4 {
		t.Fatalf("last = %d, %v", last, ok)
	}
}
