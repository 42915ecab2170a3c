package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Placement is the service's metric set, all prefixed placement_. Routes are
// labelled by chi route pattern, never by raw path.
type Placement struct {
	Registry *Registry
	// Requests counts finished requests by route pattern, method,
	// microversion and status.
	Requests *CounterVec
	// Latency is the request duration by the same labels.
	Latency *HistogramVec
	// Candidates is the duration of GET /allocation_candidates by status.
	Candidates *HistogramVec
	// Errors counts error responses by status and Placement error code.
	Errors *CounterVec
	// ConflictRetries counts restarts of the allocation write transaction
	// (provider generation conflict, serialization failure, deadlock).
	ConflictRetries *CounterVec
	// GenerationConflicts counts 409 placement.concurrent_update answers.
	GenerationConflicts *CounterVec
}

// NewPlacement registers the service's metrics in reg (a nil reg gives a
// set whose methods do nothing).
func NewPlacement(reg *Registry) *Placement {
	if reg == nil {
		return nil
	}
	return &Placement{
		Registry:            reg,
		Requests:            reg.NewCounter("placement_http_requests_total", "HTTP requests by route pattern, method, microversion and status.", "route", "method", "microversion", "status"),
		Latency:             reg.NewHistogram("placement_http_request_duration_seconds", "HTTP request duration by route pattern, method, microversion and status.", nil, "route", "method", "microversion", "status"),
		Candidates:          reg.NewHistogram("placement_allocation_candidates_duration_seconds", "Duration of GET /allocation_candidates by status.", []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}, "status"),
		Errors:              reg.NewCounter("placement_http_errors_total", "Error responses by status and Placement error code.", "status", "code"),
		ConflictRetries:     reg.NewCounter("placement_allocation_conflict_retries_total", "Restarts of the allocation write transaction after a conflict.", "reason"),
		GenerationConflicts: reg.NewCounter("placement_generation_conflicts_total", "Generation conflicts answered with 409 placement.concurrent_update.", "route"),
	}
}

// RegisterPool exposes the database pool's statistics, read at scrape time.
func RegisterPool(reg *Registry, stat func() *pgxpool.Stat) {
	if reg == nil {
		return
	}
	gauge := func(name, help string, f func(s *pgxpool.Stat) float64) {
		reg.NewGaugeFunc(name, help, func() []Sample { return []Sample{{Value: f(stat())}} })
	}
	counter := func(name, help string, f func(s *pgxpool.Stat) float64) {
		reg.NewCounterFunc(name, help, func() []Sample { return []Sample{{Value: f(stat())}} })
	}
	gauge("placement_db_pool_acquired_connections", "Connections currently in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) })
	gauge("placement_db_pool_idle_connections", "Idle connections in the pool.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) })
	gauge("placement_db_pool_total_connections", "Open connections (acquired, idle and being opened).", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) })
	gauge("placement_db_pool_max_connections", "Maximum size of the pool.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) })
	counter("placement_db_pool_acquires_total", "Connections acquired from the pool.", func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) })
	counter("placement_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) })
	counter("placement_db_pool_canceled_acquires_total", "Acquires cancelled by their context.", func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) })
	counter("placement_db_pool_acquire_seconds_total", "Total time spent acquiring connections.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() })
}
