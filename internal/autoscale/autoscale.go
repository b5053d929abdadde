// Package autoscale sets each function's replicas (its warm capacity) from
// the load the gateway observes: it raises them with in-flight requests or
// requests per second, lowers them after a quiet cool-down, and scales to
// zero after an idle period when the function opts in. It honours the
// OpenFaaS scaling labels (com.openfaas.scale.min, .max, .target, .type,
// .zero, .zero-duration) and writes its decisions through the registry, so
// every node sees them.
package autoscale

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigilhq/sigil/internal/registry"
)

// Labels read by the autoscaler (OpenFaaS names).
const (
	LabelMin          = "com.openfaas.scale.min"
	LabelMax          = "com.openfaas.scale.max"
	LabelTarget       = "com.openfaas.scale.target"
	LabelType         = "com.openfaas.scale.type"
	LabelZero         = "com.openfaas.scale.zero"
	LabelZeroDuration = "com.openfaas.scale.zero-duration"
)

// Defaults, as OpenFaaS documents them where it documents one.
const (
	DefaultMax          = 20
	DefaultCapacity     = 1  // in-flight requests per replica (type=capacity)
	DefaultRPS          = 50 // requests/s per replica (type=rps)
	DefaultZeroDuration = 15 * time.Minute
	DefaultCoolDown     = 30 * time.Second
)

// Load is what the gateway observed for one function since it started.
type Load struct {
	InFlight int64  // requests running now
	Requests uint64 // cumulative requests
}

// Source reports the current load per function, keyed "namespace/name".
type Source interface {
	Loads() map[string]Load
}

// Store is the registry side: current functions and the scale write.
type Store interface {
	AllFunctions() []registry.Function
	ScaleFunction(ctx context.Context, ns, name string, replicas uint64) (registry.Function, error)
}

// Policy is one function's scaling rule, read from its labels.
type Policy struct {
	Min, Max     uint64
	Type         string  // "capacity" or "rps"
	Target       float64 // per replica
	Zero         bool
	ZeroDuration time.Duration
}

// PolicyFor reads the labels, falling back to defaults on absent or invalid values.
func PolicyFor(labels map[string]string) Policy {
	p := Policy{Min: 1, Max: DefaultMax, Type: "capacity", Target: DefaultCapacity, ZeroDuration: DefaultZeroDuration}
	if v, err := strconv.ParseUint(labels[LabelMin], 10, 64); err == nil && v >= 1 {
		p.Min = v
	}
	if v, err := strconv.ParseUint(labels[LabelMax], 10, 64); err == nil && v >= 1 {
		p.Max = v
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if strings.EqualFold(labels[LabelType], "rps") {
		p.Type, p.Target = "rps", DefaultRPS
	}
	if v, err := strconv.ParseFloat(labels[LabelTarget], 64); err == nil && v > 0 && !math.IsInf(v, 0) {
		p.Target = v
	}
	if b, err := strconv.ParseBool(labels[LabelZero]); err == nil {
		p.Zero = b
	}
	if v := labels[LabelZeroDuration]; v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			p.ZeroDuration = d
		}
	}
	return p
}

// Desired is the pure scaling decision for one function: load is the
// smoothed in-flight count (capacity) or requests/s (rps).
func (p Policy) Desired(load float64) uint64 {
	n := uint64(math.Ceil(load / p.Target))
	if n < p.Min {
		n = p.Min
	}
	if n > p.Max {
		n = p.Max
	}
	return n
}

// Config tunes the loop.
type Config struct {
	Interval time.Duration // how often to decide (default 2s)
	CoolDown time.Duration // load must stay low this long before scaling down (default 30s)
	// Elastic says whether a function's replicas follow its load. Replicas
	// of a fresh-instance function are compiled code, not capacity, so only
	// pooled functions are elastic; every function can still scale to
	// zero. nil means every function is elastic.
	Elastic func(registry.Function) bool
	Logger  *slog.Logger
}

type state struct {
	lastRequests uint64
	lastAt       time.Time
	inflightEWMA float64
	rpsEWMA      float64
	lowSince     time.Time // when the desired count first dropped below current
	lastActive   time.Time
}

// Scaler runs the decisions. Tick is exported so tests drive it with their
// own clock instead of sleeping.
type Scaler struct {
	cfg   Config
	src   Source
	store Store
	log   *slog.Logger

	mu     sync.Mutex
	states map[string]*state
}

// New returns a Scaler; call Run to start its loop.
func New(cfg Config, src Source, store Store) *Scaler {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.CoolDown <= 0 {
		cfg.CoolDown = DefaultCoolDown
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Scaler{cfg: cfg, src: src, store: store, log: cfg.Logger, states: map[string]*state{}}
}

// Run ticks every Interval until ctx ends.
func (s *Scaler) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.Tick(ctx, now)
		}
	}
}

// Tick makes one round of decisions at time now.
func (s *Scaler) Tick(ctx context.Context, now time.Time) {
	loads := s.src.Loads()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, f := range s.store.AllFunctions() {
		key := f.Namespace + "/" + f.Name
		seen[key] = true
		l := loads[key]
		st := s.states[key]
		if st == nil {
			st = &state{lastRequests: l.Requests, lastAt: now, lastActive: now}
			s.states[key] = st
		}
		// Smooth the signals: a single burst should not flap replicas.
		const alpha = 0.5
		if dt := now.Sub(st.lastAt).Seconds(); dt > 0 {
			rate := float64(l.Requests-st.lastRequests) / dt
			if l.Requests < st.lastRequests { // counters reset (restart)
				rate = 0
			}
			st.rpsEWMA = alpha*rate + (1-alpha)*st.rpsEWMA
		}
		st.inflightEWMA = alpha*float64(l.InFlight) + (1-alpha)*st.inflightEWMA
		if l.InFlight > 0 || l.Requests != st.lastRequests {
			st.lastActive = now
		}
		st.lastRequests, st.lastAt = l.Requests, now

		p := PolicyFor(f.Labels)
		if f.Replicas == 0 {
			continue // scaled to zero: the gateway scales from zero on the next request
		}
		load := st.inflightEWMA
		if p.Type == "rps" {
			load = st.rpsEWMA
		}
		want := p.Desired(load)
		if s.cfg.Elastic != nil && !s.cfg.Elastic(f) {
			want = f.Replicas
		}
		switch {
		case p.Zero && l.InFlight == 0 && now.Sub(st.lastActive) >= p.ZeroDuration:
			want = 0
		case want > f.Replicas:
			st.lowSince = time.Time{}
		case want < f.Replicas:
			if st.lowSince.IsZero() {
				st.lowSince = now
			}
			if now.Sub(st.lowSince) < s.cfg.CoolDown {
				continue
			}
			// Step down one replica per cool-down, so a lull is not a cliff.
			want = f.Replicas - 1
			st.lowSince = now
		default:
			st.lowSince = time.Time{}
			continue
		}
		if want == f.Replicas {
			continue
		}
		if _, err := s.store.ScaleFunction(ctx, f.Namespace, f.Name, want); err != nil {
			s.log.Warn("autoscale: scale failed", "function", f.Name, "namespace", f.Namespace, "err", err)
			continue
		}
		s.log.Info("autoscale", "function", f.Name, "namespace", f.Namespace, "from", f.Replicas, "to", want,
			"type", p.Type, "load", strconv.FormatFloat(load, 'f', 2, 64))
	}
	for k := range s.states {
		if !seen[k] {
			delete(s.states, k)
		}
	}
}
