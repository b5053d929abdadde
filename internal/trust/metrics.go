package trust

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the trust counters.
type Metrics struct {
	denied   *prometheus.CounterVec
	audit    *prometheus.CounterVec
	mismatch prometheus.Counter
}

// NewMetrics registers the trust counters on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigil_trust_denied_total",
			Help: "Artifacts refused by the trust policy, by stage (push, deploy) and reason (unsigned, untrusted, invalid).",
		}, []string{"stage", "reason"}),
		audit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigil_trust_audit_allowed_total",
			Help: "Artifacts an audit-mode policy let through that enforce mode would refuse, by stage and reason.",
		}, []string{"stage", "reason"}),
		mismatch: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sigil_digest_mismatch_total",
			Help: "Modules whose bytes did not hash to their digest when loaded; they were not run.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.denied, m.audit, m.mismatch)
	}
	return m
}

// Denied counts a refusal.
func (m *Metrics) Denied(stage, reason string) {
	if m != nil {
		m.denied.WithLabelValues(stage, reason).Inc()
	}
}

// AuditAllowed counts an artifact let through by audit mode.
func (m *Metrics) AuditAllowed(stage, reason string) {
	if m != nil {
		m.audit.WithLabelValues(stage, reason).Inc()
	}
}

// DigestMismatch counts a module refused at load.
func (m *Metrics) DigestMismatch() {
	if m != nil {
		m.mismatch.Inc()
	}
}
