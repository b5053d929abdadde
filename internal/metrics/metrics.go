// Package metrics owns Sigil's Prometheus collectors: the OpenFaaS gateway
// metrics (same names and labels, so existing dashboards and the OpenFaaS
// autoscaling rules keep working) and Sigil's own runtime metrics.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// RuntimeStats is what the runtime reports for the gauges scraped on demand.
type RuntimeStats struct {
	Compiled    int
	Active      int64
	ColdStarts  uint64
	Invocations uint64
	// Interpreted modules are served by wazero's interpreter while the
	// compiler works; InterpretedInvocations ran on it.
	Interpreted            int
	InterpretedInvocations uint64
}

// Metrics holds every collector of one node, on a private registry.
type Metrics struct {
	reg *prometheus.Registry

	invocations *prometheus.CounterVec   // gateway_function_invocation_total{function_name,code}
	seconds     *prometheus.HistogramVec // gateway_functions_seconds{function_name,code}
	started     *prometheus.CounterVec   // gateway_function_invocation_started{function_name}
	serviceCnt  *prometheus.GaugeVec     // gateway_service_count{function_name}

	compileSeconds *prometheus.HistogramVec // sigil_compile_seconds{result}
	guestErrors    *prometheus.CounterVec   // sigil_invocation_errors_total{function_name,reason}
	httpRequests   *prometheus.CounterVec   // provider_http_requests_total{code,method,path}
	httpDuration   *prometheus.HistogramVec // provider_http_request_duration_seconds{code,method,path}
}

// New registers all collectors. stats is polled at scrape time for the
// runtime gauges; it may be nil.
func New(stats func() RuntimeStats) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_total",
			Help: "Function invocations by function and HTTP status code.",
		}, []string{"function_name", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_functions_seconds",
			Help:    "Function invocation time taken.",
			Buckets: prometheus.DefBuckets,
		}, []string{"function_name", "code"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_function_invocation_started",
			Help: "Function invocations started.",
		}, []string{"function_name"}),
		serviceCnt: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_service_count",
			Help: "Desired replicas (warm capacity) per function.",
		}, []string{"function_name"}),
		compileSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sigil_compile_seconds",
			Help:    "Time to compile a Wasm module to native code (including file-cache hits).",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"result"}),
		guestErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigil_invocation_errors_total",
			Help: "Invocations that ended without a normal exit, by reason (timeout, trap, output_limit, busy, ...).",
		}, []string{"function_name", "reason"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provider_http_requests_total",
			Help: "API requests by status code, method and route.",
		}, []string{"code", "method", "path"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "provider_http_request_duration_seconds",
			Help:    "API request duration by status code, method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"code", "method", "path"}),
	}
	reg.MustRegister(m.invocations, m.seconds, m.started, m.serviceCnt,
		m.compileSeconds, m.guestErrors, m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sigil_compiled_modules", Help: "Compiled modules held in memory."},
				func() float64 { return float64(stats().Compiled) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sigil_active_instances", Help: "Wasm instances running now."},
				func() float64 { return float64(stats().Active) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sigil_cold_starts_total", Help: "Invocations that had to load and compile their module first."},
				func() float64 { return float64(stats().ColdStarts) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sigil_instances_total", Help: "Wasm instances started."},
				func() float64 { return float64(stats().Invocations) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sigil_interpreted_modules", Help: "Compiled modules still served by the interpreter while the compiler works."},
				func() float64 { return float64(stats().Interpreted) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sigil_interpreted_instances_total", Help: "Wasm instances that ran on the interpreter (cold large modules)."},
				func() float64 { return float64(stats().InterpretedInvocations) }),
		)
	}
	return m
}

// Handler serves the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry exposes the registry for packages that add their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Started counts an invocation that is about to run. fn is "name.namespace".
func (m *Metrics) Started(fn string) { m.started.WithLabelValues(fn).Inc() }

// Finished records one completed invocation.
func (m *Metrics) Finished(fn string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.invocations.WithLabelValues(fn, c).Inc()
	m.seconds.WithLabelValues(fn, c).Observe(d.Seconds())
}

// GuestError counts an invocation that did not end with a normal exit.
func (m *Metrics) GuestError(fn, reason string) { m.guestErrors.WithLabelValues(fn, reason).Inc() }

// Compiled records a compile's duration; result is "ok" or "error".
func (m *Metrics) Compiled(result string, d time.Duration) {
	m.compileSeconds.WithLabelValues(result).Observe(d.Seconds())
}

// SetReplicas sets gateway_service_count for fn; Forget removes it.
func (m *Metrics) SetReplicas(fn string, n uint64) { m.serviceCnt.WithLabelValues(fn).Set(float64(n)) }

// Forget drops the per-function series of a removed function's replica gauge.
func (m *Metrics) Forget(fn string) { m.serviceCnt.DeleteLabelValues(fn) }

// API records one API request; route is the matched pattern, never the raw path.
func (m *Metrics) API(code int, method, route string, d time.Duration) {
	c := strconv.Itoa(code)
	m.httpRequests.WithLabelValues(c, method, route).Inc()
	m.httpDuration.WithLabelValues(c, method, route).Observe(d.Seconds())
}
