package queue

import (
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/registry"
)

func TestPolicyFor(t *testing.T) {
	def := DefaultPolicy()
	tests := []struct {
		name string
		fn   registry.Function
		want func(p Policy) bool
	}{
		{"defaults", registry.Function{}, func(p Policy) bool {
			return p.MaxAttempts == def.MaxAttempts && p.BackoffInitial == def.BackoffInitial && p.Retriable(503) && !p.Retriable(400) && p.MaxConcurrent == 0
		}},
		{"annotations", registry.Function{Annotations: map[string]string{AnnotationMaxAttempts: "7",
			AnnotationBackoffInitial: "2s", AnnotationBackoffMax: "1m", AnnotationRetryCodes: "500,418"}},
			func(p Policy) bool {
				return p.MaxAttempts == 7 && p.BackoffInitial == 2*time.Second && p.BackoffMax == time.Minute &&
					p.Retriable(418) && !p.Retriable(503)
			}},
		{"invalid values keep defaults", registry.Function{Annotations: map[string]string{AnnotationMaxAttempts: "zero",
			AnnotationBackoffInitial: "-1s", AnnotationRetryCodes: "5xx"}},
			func(p Policy) bool {
				return p.MaxAttempts == 5 && p.BackoffInitial == def.BackoffInitial && p.Retriable(502)
			}},
		{"max below initial is raised", registry.Function{Annotations: map[string]string{AnnotationBackoffInitial: "10s", AnnotationBackoffMax: "1s"}},
			func(p Policy) bool { return p.BackoffMax == 10*time.Second }},
		{"max_inflight env times replicas", registry.Function{Replicas: 3, EnvVars: map[string]string{"max_inflight": "2"}},
			func(p Policy) bool { return p.MaxConcurrent == 6 }},
		{"annotation wins over env", registry.Function{Annotations: map[string]string{AnnotationMaxInflight: "1"}, EnvVars: map[string]string{"max_inflight": "9"}},
			func(p Policy) bool { return p.MaxConcurrent == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := PolicyFor(&tt.fn); !tt.want(p) {
				t.Errorf("policy %+v", p)
			}
		})
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	p := Policy{BackoffInitial: 100 * time.Millisecond, BackoffMax: time.Second}
	tests := []struct {
		next   int
		lo, hi time.Duration
	}{
		{2, 50 * time.Millisecond, 100 * time.Millisecond},
		{3, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.Backoff(tt.next)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("Backoff(%d) = %s, want in [%s, %s]", tt.next, d, tt.lo, tt.hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("Backoff(%d) is not jittered: %d distinct values", tt.next, len(seen))
		}
	}
}

func TestValidateCallbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://10.0.0.1:9000/done", true},
		{"https://example.com/hook?x=1", true},
		{"ftp://example.com/", false},
		{"file:///etc/passwd", false},
		{"/relative", false},
		{"http://", false},
		{"::nope", false},
	}
	for _, tt := range tests {
		if err := ValidateCallbackURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("ValidateCallbackURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestValidCallID(t *testing.T) {
	for id, ok := range map[string]bool{"a": true, "0b9c-UUID_x": true, "": false, "a.b": false, "a b": false, "a*": false, "a>": false} {
		if ValidCallID(id) != ok {
			t.Errorf("ValidCallID(%q) != %v", id, ok)
		}
	}
}
