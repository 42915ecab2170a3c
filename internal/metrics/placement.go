package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Placement is the service's metric set, all prefixed placement_. Routes are
// labelled by chi route pattern, never by raw path.
type Placement struct {
	Registry *Registry
	// Requests counts finished requests by route pattern, method,
	// microversion and status.
	Requests *prometheus.CounterVec
	// Latency is the request duration by the same labels.
	Latency *prometheus.HistogramVec
	// Candidates is the duration of GET /allocation_candidates by status.
	Candidates *prometheus.HistogramVec
	// Errors counts error responses by status and Placement error code.
	Errors *prometheus.CounterVec
	// ConflictRetries counts restarts of write transactions by reason:
	// "generation" (a provider generation conflict of an allocation write)
	// or the SQLSTATE (40001 serialization failure, 40P01 deadlock; any
	// write).
	ConflictRetries *prometheus.CounterVec
	// GenerationConflicts counts 409 placement.concurrent_update answers
	// by route pattern.
	GenerationConflicts *prometheus.CounterVec
}

// NewPlacement registers the service's metrics in reg (a nil reg gives a
// nil set, which the API takes as "no metrics").
func NewPlacement(reg *Registry) *Placement {
	if reg == nil {
		return nil
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(v)
		return v
	}
	return &Placement{
		Registry:            reg,
		Requests:            counter("placement_http_requests_total", "HTTP requests by route pattern, method, microversion and status.", "route", "method", "microversion", "status"),
		Latency:             histogram("placement_http_request_duration_seconds", "HTTP request duration by route pattern, method, microversion and status.", prometheus.DefBuckets, "route", "method", "microversion", "status"),
		Candidates:          histogram("placement_allocation_candidates_duration_seconds", "Duration of GET /allocation_candidates by status.", []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}, "status"),
		Errors:              counter("placement_http_errors_total", "Error responses by status and Placement error code.", "status", "code"),
		ConflictRetries:     counter("placement_allocation_conflict_retries_total", "Restarts of a write transaction after a conflict.", "reason"),
		GenerationConflicts: counter("placement_generation_conflicts_total", "Generation conflicts answered with 409 placement.concurrent_update.", "route"),
	}
}

// RegisterPool exposes the database pool's statistics, read once per
// scrape.
func RegisterPool(reg *Registry, stat func() *pgxpool.Stat) {
	if reg == nil {
		return
	}
	reg.MustRegister(&poolCollector{stat: stat})
}

// poolStats are the pool's metrics: name, help, type and how to read the
// value from one pgxpool.Stat.
var poolStats = []struct {
	name, help string
	typ        prometheus.ValueType
	value      func(s *pgxpool.Stat) float64
}{
	{"placement_db_pool_acquired_connections", "Connections currently in use.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }},
	{"placement_db_pool_idle_connections", "Idle connections in the pool.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }},
	{"placement_db_pool_total_connections", "Open connections (acquired, idle and being opened).", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }},
	{"placement_db_pool_max_connections", "Maximum size of the pool.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }},
	{"placement_db_pool_acquires_total", "Connections acquired from the pool.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }},
	{"placement_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }},
	{"placement_db_pool_canceled_acquires_total", "Acquires cancelled by their context.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }},
	{"placement_db_pool_acquire_seconds_total", "Total time spent acquiring connections.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }},
}

// poolCollector reads the pool's statistics at scrape time.
type poolCollector struct {
	stat func() *pgxpool.Stat
}

func (c *poolCollector) desc(i int) *prometheus.Desc {
	return prometheus.NewDesc(poolStats[i].name, poolStats[i].help, nil, nil)
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for i := range poolStats {
		ch <- c.desc(i)
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	for i, p := range poolStats {
		ch <- prometheus.MustNewConstMetric(c.desc(i), p.typ, p.value(s))
	}
}
