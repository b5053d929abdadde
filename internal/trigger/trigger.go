package trigger

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/sigilhq/sigil/internal/queue"
	"github.com/sigilhq/sigil/internal/registry"
)

// Enqueuer stores a call durably (the async queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, req *queue.Request) (string, error)
}

// Config wires a Manager.
type Config struct {
	Queue      Enqueuer
	NC         *nats.Conn // nil: NATS-subject triggers are off
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no metrics
	Location   *time.Location        // cron time zone (default UTC)
}

// Manager keeps the triggers of every deployed function in step with the
// registry.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	cron  *cron.Cron
	fires *prometheus.CounterVec

	mu      sync.Mutex
	fns     map[string]*entry // "ns/name" → active triggers
	stopped bool
}

type entry struct {
	topic, schedule string
	cronID          cron.EntryID
	subs            []*nats.Subscription
}

// New builds a Manager; call Start, then feed it registry events.
func New(cfg Config) (*Manager, error) {
	if cfg.Queue == nil {
		return nil, fmt.Errorf("trigger: Config.Queue is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	m := &Manager{
		cfg:  cfg,
		log:  cfg.Logger,
		cron: cron.New(cron.WithLocation(cfg.Location)),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_trigger_fires_total",
			Help: "Triggers fired, by function and kind (cron, nats)."}, []string{"function_name", "kind"}),
		fns: map[string]*entry{},
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(m.fires); err != nil {
			return nil, fmt.Errorf("trigger: metrics: %w", err)
		}
	}
	return m, nil
}

// Start runs the cron scheduler.
func (m *Manager) Start() { m.cron.Start() }

// Stop removes every trigger and waits for cron jobs that are firing.
func (m *Manager) Stop(ctx context.Context) {
	m.mu.Lock()
	m.stopped = true
	for key, e := range m.fns {
		m.removeLocked(e)
		delete(m.fns, key)
	}
	m.mu.Unlock()
	select {
	case <-m.cron.Stop().Done():
	case <-ctx.Done():
	}
}

// OnEvent applies a registry change (registry.Subscribe callback).
func (m *Manager) OnEvent(ev registry.Event) {
	f := ev.Function
	key := f.Namespace + "/" + f.Name
	topic, schedule := "", ""
	if ev.Kind != registry.Delete {
		topic, schedule = f.Annotations[AnnotationTopic], f.Annotations[AnnotationSchedule]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	old := m.fns[key]
	if old != nil && old.topic == topic && old.schedule == schedule {
		return
	}
	if old != nil {
		m.removeLocked(old)
		delete(m.fns, key)
	}
	if topic == "" {
		return
	}
	e := &entry{topic: topic, schedule: schedule}
	m.fns[key] = e
	isCron, subjects := Topics(topic)
	if isCron {
		m.addCronLocked(e, f)
	}
	for _, s := range subjects {
		m.addSubjectLocked(e, f, s)
	}
}

func (m *Manager) removeLocked(e *entry) {
	if e.cronID != 0 {
		m.cron.Remove(e.cronID)
	}
	for _, s := range e.subs {
		_ = s.Unsubscribe()
	}
}

func (m *Manager) addCronLocked(e *entry, f registry.Function) {
	label := f.Name + "." + f.Namespace
	sched, err := ParseSchedule(e.schedule)
	if err != nil {
		m.log.Warn("cron trigger not installed", "function", label, "err", err)
		return
	}
	ns, name := f.Namespace, f.Name
	e.cronID = m.cron.Schedule(sched, cron.FuncJob(func() {
		m.fire(ns, name, "cron", &queue.Request{
			Method: http.MethodPost, Path: "/",
			Header: http.Header{"X-Connector": {"cron-connector"}, "X-Topic": {CronTopic}, "User-Agent": {"sigil-cron"}},
		})
	}))
	m.log.Info("cron trigger installed", "function", label, "schedule", e.schedule)
}

func (m *Manager) addSubjectLocked(e *entry, f registry.Function, subject string) {
	label := f.Name + "." + f.Namespace
	if m.cfg.NC == nil {
		m.log.Warn("NATS trigger not installed: no NATS connection", "function", label, "subject", subject)
		return
	}
	if err := ValidateSubject(subject); err != nil {
		m.log.Warn("NATS trigger not installed", "function", label, "err", err)
		return
	}
	ns, name := f.Namespace, f.Name
	// A queue group per function: in a cluster one node takes each message.
	sub, err := m.cfg.NC.QueueSubscribe(subject, "sigil-trigger-"+ns+"-"+name, func(msg *nats.Msg) {
		hdr := http.Header{}
		for k, v := range msg.Header {
			hdr[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
		hdr.Set("X-Connector", "nats-connector")
		hdr.Set("X-Topic", msg.Subject)
		if hdr.Get("Content-Type") == "" {
			hdr.Set("Content-Type", "application/octet-stream")
		}
		id := m.fire(ns, name, "nats", &queue.Request{
			Method: http.MethodPost, Path: "/", Header: hdr, Body: msg.Data, ContentLength: int64(len(msg.Data)),
		})
		if msg.Reply != "" && id != "" {
			_ = msg.Respond([]byte(id))
		}
	})
	if err != nil {
		m.log.Warn("NATS trigger not installed", "function", label, "subject", subject, "err", err)
		return
	}
	e.subs = append(e.subs, sub)
	m.log.Info("NATS trigger installed", "function", label, "subject", subject)
}

// fire queues one triggered call and returns its id ("" on failure).
func (m *Manager) fire(ns, name, kind string, req *queue.Request) string {
	label := name + "." + ns
	req.Namespace, req.Name, req.Source = ns, name, kind
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := m.cfg.Queue.Enqueue(ctx, req)
	if err != nil {
		m.log.Error("trigger could not queue its call", "function", label, "kind", kind, "err", err)
		return ""
	}
	m.fires.WithLabelValues(label, kind).Inc()
	m.log.Info("trigger fired", "function", label, "kind", kind, "topic", req.Header.Get("X-Topic"), "call_id", id)
	return id
}
