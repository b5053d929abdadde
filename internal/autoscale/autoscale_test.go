package autoscale

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sigilhq/sigil/internal/registry"
)

func TestPolicyFor(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   Policy
	}{
		{"defaults", nil, Policy{Min: 1, Max: DefaultMax, Type: "capacity", Target: 1, ZeroDuration: DefaultZeroDuration}},
		{"openfaas labels", map[string]string{LabelMin: "2", LabelMax: "4", LabelType: "rps", LabelTarget: "100", LabelZero: "true", LabelZeroDuration: "5m"},
			Policy{Min: 2, Max: 4, Type: "rps", Target: 100, Zero: true, ZeroDuration: 5 * time.Minute}},
		{"max below min", map[string]string{LabelMin: "5", LabelMax: "2"}, Policy{Min: 5, Max: 5, Type: "capacity", Target: 1, ZeroDuration: DefaultZeroDuration}},
		{"invalid values fall back", map[string]string{LabelMin: "0", LabelMax: "x", LabelTarget: "-1", LabelZero: "maybe", LabelZeroDuration: "soon"},
			Policy{Min: 1, Max: DefaultMax, Type: "capacity", Target: 1, ZeroDuration: DefaultZeroDuration}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PolicyFor(tt.labels); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDesired(t *testing.T) {
	p := Policy{Min: 1, Max: 5, Target: 2}
	for load, want := range map[float64]uint64{0: 1, 0.5: 1, 2: 1, 2.1: 2, 7: 4, 100: 5} {
		if got := p.Desired(load); got != want {
			t.Errorf("Desired(%v) = %d, want %d", load, got, want)
		}
	}
}

type fakeSource struct {
	mu sync.Mutex
	l  map[string]Load
}

func (f *fakeSource) Loads() map[string]Load {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Load{}
	for k, v := range f.l {
		out[k] = v
	}
	return out
}

type fakeStore struct {
	fns map[string]*registry.Function
}

func (f *fakeStore) AllFunctions() []registry.Function {
	var out []registry.Function
	for _, fn := range f.fns {
		out = append(out, *fn)
	}
	return out
}

func (f *fakeStore) ScaleFunction(_ context.Context, ns, name string, n uint64) (registry.Function, error) {
	fn := f.fns[ns+"/"+name]
	fn.Replicas = n
	return *fn, nil
}

// TestScalerLifecycle drives a function through load, a lull and idleness
// with a synthetic clock: up with in-flight load, down one step per
// cool-down, to zero after zero-duration when opted in.
func TestScalerLifecycle(t *testing.T) {
	fn := &registry.Function{Name: "f", Namespace: "ns", Replicas: 1,
		Labels: map[string]string{LabelMax: "8", LabelZero: "true", LabelZeroDuration: "5m"}}
	store := &fakeStore{fns: map[string]*registry.Function{"ns/f": fn}}
	src := &fakeSource{l: map[string]Load{}}
	s := New(Config{Interval: time.Second, CoolDown: 10 * time.Second}, src, store)
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	tick := func(d time.Duration, inflight int64, reqs uint64) {
		now = now.Add(d)
		src.l["ns/f"] = Load{InFlight: inflight, Requests: reqs}
		s.Tick(ctx, now)
	}
	tick(0, 0, 0)
	// Sustained load of 6 in flight raises replicas (smoothed, capped at max).
	reqs := uint64(0)
	for i := 0; i < 6; i++ {
		reqs += 100
		tick(time.Second, 6, reqs)
	}
	if fn.Replicas != 6 {
		t.Fatalf("under load: replicas %d, want 6", fn.Replicas)
	}
	// A burst beyond max is capped.
	for i := 0; i < 6; i++ {
		reqs += 100
		tick(time.Second, 50, reqs)
	}
	if fn.Replicas != 8 {
		t.Fatalf("burst: replicas %d, want max 8", fn.Replicas)
	}
	// Load stops: nothing drops within the cool-down, then one step at a time.
	for i := 0; i < 10; i++ {
		tick(time.Second, 0, reqs)
		if fn.Replicas != 8 {
			t.Fatalf("%ds into the lull: replicas %d, want 8 until the cool-down passes", i+1, fn.Replicas)
		}
	}
	for i := 0; i < 10 && fn.Replicas == 8; i++ {
		tick(time.Second, 0, reqs)
	}
	if fn.Replicas != 7 {
		t.Fatalf("after one cool-down: replicas %d, want 7 (one step)", fn.Replicas)
	}
	for i := 0; i < 10; i++ {
		tick(11*time.Second, 0, reqs)
	}
	if fn.Replicas != 1 {
		t.Fatalf("after the lull: replicas %d, want min 1", fn.Replicas)
	}
	// Idle past zero-duration (5m since the last request) → zero.
	tick(time.Minute, 0, reqs)
	if fn.Replicas == 0 {
		t.Fatal("scaled to zero too early")
	}
	for i := 0; i < 3; i++ {
		tick(time.Minute, 0, reqs)
	}
	if fn.Replicas != 0 {
		t.Fatalf("idle: replicas %d, want 0", fn.Replicas)
	}
	// At zero the autoscaler leaves it alone; the gateway scales from zero.
	tick(time.Second, 3, reqs+5)
	if fn.Replicas != 0 {
		t.Fatalf("autoscaler must not scale up from zero itself: %d", fn.Replicas)
	}
}

func TestScalerNoZeroWithoutOptIn(t *testing.T) {
	fn := &registry.Function{Name: "f", Namespace: "ns", Replicas: 1}
	store := &fakeStore{fns: map[string]*registry.Function{"ns/f": fn}}
	s := New(Config{CoolDown: time.Second}, &fakeSource{l: map[string]Load{}}, store)
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 100; i++ {
		now = now.Add(time.Minute)
		s.Tick(context.Background(), now)
	}
	if fn.Replicas != 1 {
		t.Fatalf("replicas %d: without com.openfaas.scale.zero a function stays at min", fn.Replicas)
	}
}

// TestScalerInelastic: a function that is not elastic keeps its replicas
// under load but still goes to zero when idle and opted in.
func TestScalerInelastic(t *testing.T) {
	fn := &registry.Function{Name: "f", Namespace: "ns", Replicas: 1,
		Labels: map[string]string{LabelZero: "true", LabelZeroDuration: "1m"}}
	store := &fakeStore{fns: map[string]*registry.Function{"ns/f": fn}}
	src := &fakeSource{l: map[string]Load{}}
	s := New(Config{CoolDown: time.Second, Elastic: func(registry.Function) bool { return false }}, src, store)
	now := time.Unix(1_700_000_000, 0)
	for i := 1; i <= 10; i++ {
		now = now.Add(time.Second)
		src.l["ns/f"] = Load{InFlight: 40, Requests: uint64(i * 100)}
		s.Tick(context.Background(), now)
	}
	if fn.Replicas != 1 {
		t.Fatalf("inelastic function scaled to %d under load", fn.Replicas)
	}
	src.l["ns/f"] = Load{InFlight: 0, Requests: 1000}
	for i := 0; i < 3; i++ {
		now = now.Add(time.Minute)
		s.Tick(context.Background(), now)
	}
	if fn.Replicas != 0 {
		t.Fatalf("idle inelastic function with scale.zero: replicas %d, want 0", fn.Replicas)
	}
}
