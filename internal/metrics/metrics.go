// Package metrics defines the service's Prometheus metrics on a
// github.com/prometheus/client_golang registry: the placement_ families
// (placement.go), the database pool's statistics read at scrape time, and
// the Go runtime and process collectors. The registry is created in main
// and passed to whoever counts; /metrics serves it in the Prometheus text
// format, or OpenMetrics when the scraper asks for it.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the metrics one process exposes.
type Registry = prometheus.Registry

// NewRegistry returns a registry holding the Go runtime collector (go_*)
// and the process collector (process_*).
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg's metrics: the Prometheus text format (0.0.4) by
// default, OpenMetrics (1.0.0) to a scraper whose Accept header asks for
// application/openmetrics-text.
func Handler(reg *Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
