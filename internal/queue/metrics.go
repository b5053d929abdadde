package queue

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type qmetrics struct {
	q         *Queue
	enqueued  *prometheus.CounterVec
	attempts  *prometheus.CounterVec
	successes *prometheus.CounterVec
	failures  *prometheus.CounterVec
	dead      *prometheus.CounterVec
	callbacks *prometheus.CounterVec
	canceled  prometheus.Counter
	depthDesc *prometheus.Desc
	ageDesc   *prometheus.Desc
}

func newMetrics(q *Queue) *qmetrics {
	fn := []string{"function_name"}
	return &qmetrics{
		q: q,
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_enqueued_total",
			Help: "Async calls accepted (stored in the queue)."}, fn),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_attempts_total",
			Help: "Runs of async calls, retries included."}, fn),
		successes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_successes_total",
			Help: "Async runs that answered below 400."}, fn),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_failures_total",
			Help: "Async runs that answered 400 or more (retried or not)."}, fn),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_dead_letters_total",
			Help: "Async calls moved to the dead-letter stream."}, fn),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_async_callbacks_total",
			Help: "Callbacks by result: delivered or failed (after every retry)."}, []string{"result"}),
		canceled: prometheus.NewCounter(prometheus.CounterOpts{Name: "sigil_async_canceled_total",
			Help: "Queued async calls canceled."}),
		depthDesc: prometheus.NewDesc("sigil_async_queue_depth",
			"Async calls in the queue: waiting, backing off or running.", nil, nil),
		ageDesc: prometheus.NewDesc("sigil_async_oldest_age_seconds",
			"Age of the oldest message in the queue (0 when empty).", nil, nil),
	}
}

func (m *qmetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.enqueued, m.attempts, m.successes, m.failures, m.dead, m.callbacks, m.canceled, m} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Describe implements prometheus.Collector for the queue gauges.
func (m *qmetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.depthDesc
	ch <- m.ageDesc
}

// Collect reads the stream state once per scrape.
func (m *qmetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, first, err := m.q.Depth(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if n > 0 && !first.IsZero() {
		age = time.Since(first).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(m.depthDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(m.ageDesc, prometheus.GaugeValue, age)
}
